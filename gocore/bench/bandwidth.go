package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/genbench/genbench/gocore/engine"
)

// DeviceBandwidth is the device's measured memory bandwidth: the roofline
// a config's achieved decode read bandwidth (decode_read_gb_s) is a
// percentage of (decode_read_pct).
type DeviceBandwidth struct {
	GBs    float64 `json:"gb_s"`   // bytes per second / 1e9
	Method string  `json:"method"` // how it was measured
	// MeasuredAt is when it was measured: RFC 3339, UTC, or MeasuredUnknown
	// for a cached figure stored without its time.
	MeasuredAt string `json:"measured_at"`
	// Cached is true when the figure came from the bandwidth cache
	// (BandwidthCachePath) rather than a measurement in this run.
	Cached bool `json:"cached,omitempty"`
	// Replaced is the cached figure a new measurement replaced
	// (--remeasure-bandwidth); nil when there was none.
	Replaced *ReplacedBandwidth `json:"replaced,omitempty"`
}

// ReplacedBandwidth is a cached figure that --remeasure-bandwidth replaced.
type ReplacedBandwidth struct {
	GBs        float64 `json:"gb_s"`
	MeasuredAt string  `json:"measured_at"`
}

// MeasuredUnknown is DeviceBandwidth.MeasuredAt of a cached figure stored
// without the time it was measured.
const MeasuredUnknown = "unknown"

// bandwidthGenerator is a generator that can measure its device's memory
// bandwidth (the engine).
type bandwidthGenerator interface {
	MemoryBandwidth() (float64, string, error)
}

// bandwidthCache is the cache file: a figure per device identity.
type bandwidthCache struct {
	Devices map[string]DeviceBandwidth `json:"devices"`
}

// BandwidthCachePath is where measured device bandwidths are cached:
// genbench/bandwidth.json under the user's cache directory.
func BandwidthCachePath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("bandwidth cache: %w", err)
	}
	return filepath.Join(dir, "genbench", "bandwidth.json"), nil
}

// BandwidthKey is a device's identity in the bandwidth cache: kind, name,
// index and worker threads (the CPU's read bandwidth depends on them).
func BandwidthKey(d engine.DeviceInfo) string {
	return fmt.Sprintf("%s|%s|%d|%d threads", d.Kind, d.Name, d.Index, d.Threads)
}

// CachedBandwidth returns the bandwidth of device dev from the cache file
// at path, or measures it with measure (bytes/s and how) and adds it to
// the file. With remeasure it measures even when the device is cached and
// replaces the cached figure (the result's Replaced names the old one). A
// missing or unreadable cache is measured again and rewritten; the other
// devices' figures in it are kept. When the measurement succeeds but the
// cache cannot be written, it returns the figure together with the write
// error.
func CachedBandwidth(path string, dev engine.DeviceInfo, measure func() (float64, string, error), now time.Time, remeasure bool) (*DeviceBandwidth, error) {
	key := BandwidthKey(dev)
	var cache bandwidthCache
	var old *DeviceBandwidth
	if data, err := os.ReadFile(path); err == nil {
		if json.Unmarshal(data, &cache) == nil {
			if b, ok := cache.Devices[key]; ok && b.GBs > 0 {
				if b.MeasuredAt == "" {
					b.MeasuredAt = MeasuredUnknown
				}
				if !remeasure {
					b.Cached = true
					return &b, nil
				}
				old = &b
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("bandwidth cache %s: %w", path, err)
	}
	bps, method, err := measure()
	if err != nil {
		return nil, fmt.Errorf("measure the bandwidth of %s: %w", key, err)
	}
	if !(bps > 0) {
		return nil, fmt.Errorf("measure the bandwidth of %s: got %v bytes/s, want > 0", key, bps)
	}
	b := DeviceBandwidth{GBs: bps / 1e9, Method: method, MeasuredAt: now.UTC().Format(time.RFC3339)}
	if cache.Devices == nil {
		cache.Devices = map[string]DeviceBandwidth{}
	}
	cache.Devices[key] = b
	if old != nil {
		b.Replaced = &ReplacedBandwidth{GBs: old.GBs, MeasuredAt: old.MeasuredAt}
	}
	return &b, writeBandwidthCache(path, &cache)
}

// writeBandwidthCache replaces the cache file atomically.
func writeBandwidthCache(path string, cache *bandwidthCache) error {
	data, err := json.MarshalIndent(cache, "", "  ")
	if err != nil {
		return fmt.Errorf("bandwidth cache: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("bandwidth cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".bandwidth-*.json")
	if err != nil {
		return fmt.Errorf("bandwidth cache: %w", err)
	}
	_, werr := tmp.Write(append(data, '\n'))
	if err := errors.Join(werr, tmp.Close()); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("bandwidth cache %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("bandwidth cache %s: %w", path, err)
	}
	return nil
}

// deviceBandwidth is gen's device bandwidth from the cache, measured when
// not cached or when remeasure is set (--remeasure-bandwidth); nil when gen
// cannot measure it or the measurement failed (a report without the
// percentage, not a failed run).
func deviceBandwidth(gen Generator, dev engine.DeviceInfo, remeasure bool) *DeviceBandwidth {
	bg, ok := gen.(bandwidthGenerator)
	if !ok {
		return nil
	}
	path, err := BandwidthCachePath()
	if err != nil {
		return nil
	}
	b, _ := CachedBandwidth(path, dev, bg.MemoryBandwidth, time.Now(), remeasure)
	return b // an unwritable cache still gives this run its figure
}

// percentOfBandwidth is each trial's achieved read bandwidth as a
// percentage of the device's (deviceGBs).
func percentOfBandwidth(gbs Figure, deviceGBs float64) Figure {
	pct := make([]float64, len(gbs.Trials))
	for i, v := range gbs.Trials {
		pct[i] = 100 * v / deviceGBs
	}
	return NewFigure(pct)
}
