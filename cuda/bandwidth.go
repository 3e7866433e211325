package cuda

import (
	"errors"
	"fmt"
	"sort"

	"github.com/genbench/genbench/cuda/cu"
)

func devOff(n int64) cu.DevPtr { return cu.DevPtr(n) }

// CopyBandwidth measures the device's memory bandwidth with device-to-device
// copies of size bytes, timed with events: it returns the median over reps
// copies of (bytes read + bytes written) / time, in bytes per second. This
// is the practical roofline a decode step is compared against.
func (b *Backend) CopyBandwidth(size int64, reps int) (float64, error) {
	if size < 1<<20 || reps < 1 {
		return 0, fmt.Errorf("cuda: bandwidth test needs >= 1 MiB and >= 1 repetition (got %d bytes, %d)", size, reps)
	}
	var out float64
	err := b.do(func() error {
		src, err := b.alloc(size, "bandwidth source")
		if err != nil {
			return err
		}
		defer b.free(src, size)
		dst, err := b.alloc(size, "bandwidth destination")
		if err != nil {
			return err
		}
		defer b.free(dst, size)
		// Non-zero data: zeros can be faster than real data.
		if err := b.drv.MemsetD32Async(src, 0x3f9d70a4, size/4, b.stream); err != nil {
			return err
		}
		start, err := b.drv.EventCreate(cu.EventDefault)
		if err != nil {
			return err
		}
		defer b.drv.EventDestroy(start)
		end, err := b.drv.EventCreate(cu.EventDefault)
		if err != nil {
			return err
		}
		defer b.drv.EventDestroy(end)
		// Warm up.
		if err := b.drv.MemcpyDtoDAsync(dst, src, size, b.stream); err != nil {
			return err
		}
		var ms []float64
		for i := 0; i < reps; i++ {
			if err := errors.Join(
				b.drv.EventRecord(start, b.stream),
				b.drv.MemcpyDtoDAsync(dst, src, size, b.stream),
				b.drv.EventRecord(end, b.stream),
				b.drv.EventSynchronize(end)); err != nil {
				return err
			}
			t, err := b.drv.EventElapsedTime(start, end)
			if err != nil {
				return err
			}
			ms = append(ms, float64(t))
		}
		sort.Float64s(ms)
		med := ms[len(ms)/2]
		if med <= 0 {
			return errors.New("cuda: bandwidth test timed 0 ms")
		}
		out = 2 * float64(size) / (med / 1e3)
		return nil
	})
	return out, err
}

// bandwidthBytes is the buffer size MemoryBandwidth copies.
const bandwidthBytes = 256 << 20

// MemoryBandwidth measures the device's copy bandwidth (CopyBandwidth of
// 256 MiB, median of 20) for backend.BandwidthMeter.
func (b *Backend) MemoryBandwidth() (float64, string, error) {
	bw, err := b.CopyBandwidth(bandwidthBytes, 20)
	return bw, fmt.Sprintf("cuda device-to-device copy (read + write), %d MiB", bandwidthBytes>>20), err
}
