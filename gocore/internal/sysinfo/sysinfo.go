// Package sysinfo reads what the engine reports about its host from
// Linux's /proc: the CPU model, memory sizes and the process's peak
// resident memory. Where a file cannot be read (another OS, a sandbox),
// each function returns its documented fallback.
package sysinfo

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
)

// CPUModel is the CPU's model name from /proc/cpuinfo, or GOARCH.
func CPUModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	if m := cpuModel(f); m != "" {
		return m
	}
	return runtime.GOARCH
}

// cpuModel finds the model name in a cpuinfo text ("" when none): x86's
// "model name", or the "Model" / "cpu model" of other architectures.
func cpuModel(r io.Reader) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "model name", "Model", "cpu model":
			if v = strings.TrimSpace(v); v != "" {
				return v
			}
		}
	}
	return ""
}

// MemInfo is a /proc/meminfo field ("MemTotal", "MemAvailable") in bytes,
// 0 when unknown.
func MemInfo(field string) int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	return kBField(f, field)
}

// PeakRSS is the process's peak resident memory (VmHWM of
// /proc/self/status) in bytes.
func PeakRSS() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if v := kBField(f, "VmHWM"); v > 0 {
		return v, nil
	}
	return 0, fmt.Errorf("VmHWM not found in /proc/self/status")
}

// ResetPeakRSS restarts PeakRSS at the current resident memory (writing 5
// to /proc/self/clear_refs); nothing happens where that is not possible.
func ResetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// kBField reads a "<field>: <n> kB" line as bytes (0 when absent).
func kBField(r io.Reader, field string) int64 {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var kb int64
		if n, _ := fmt.Sscanf(sc.Text(), field+": %d kB", &kb); n == 1 {
			return kb * 1024
		}
	}
	return 0
}
