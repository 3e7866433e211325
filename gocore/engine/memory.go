package engine

import (
	"github.com/genbench/genbench/gocore/backend"
	"github.com/genbench/genbench/gocore/internal/sysinfo"
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
	v, _ := sysinfo.PeakRSS()
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
	sysinfo.ResetPeakRSS()
}
