package engine

import (
	"bufio"
	"fmt"
	"os"

	"github.com/genbench/genbench/gocore/backend"
)

// PeakMemory is the peak memory in bytes since the last ResetPeakMemory:
// the device's when the backend reports it (backend.MemoryReporter), else
// the process's peak resident set (VmHWM; 0 when unknown).
func (e *Engine) PeakMemory() int64 {
	if e.lock() == nil {
		defer e.mu.Unlock()
		if mr, ok := e.be.(backend.MemoryReporter); ok {
			return mr.PeakMemory()
		}
	}
	v, _ := readVmHWM()
	return v
}

// ResetPeakMemory restarts peak tracking (on the CPU by writing 5 to
// /proc/self/clear_refs, which resets VmHWM to the current RSS).
func (e *Engine) ResetPeakMemory() {
	if e.lock() == nil {
		defer e.mu.Unlock()
		if mr, ok := e.be.(backend.MemoryReporter); ok {
			mr.ResetPeakMemory()
			return
		}
	}
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

func readVmHWM() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb int64
		if n, _ := fmt.Sscanf(sc.Text(), "VmHWM: %d kB", &kb); n == 1 {
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("VmHWM not found in /proc/self/status")
}
