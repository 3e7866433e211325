package cu

import (
	"fmt"
	"math"
)

// Params is a kernel's argument list, built in order of the kernel's
// parameters. Each value sits in its own 8-byte slot; the driver reads
// 4 bytes for 32-bit parameters and 8 for pointers (little-endian hosts).
// Values are copied into memory outside the Go heap at launch.
type Params struct {
	vals  []uint64
	sizes []int
}

// Reset empties the list for reuse.
func (p *Params) Reset() *Params { p.vals, p.sizes = p.vals[:0], p.sizes[:0]; return p }

// Ptr appends a device pointer (8 bytes).
func (p *Params) Ptr(v DevPtr) *Params { return p.add(uint64(v), 8) }

// I32 appends an int as a 32-bit parameter; a value that does not fit is
// reported by Check (and LaunchKernel) instead of being truncated.
func (p *Params) I32(v int) *Params {
	if v < math.MinInt32 || v > math.MaxInt32 {
		p.sizes = append(p.sizes, -1)
		p.vals = append(p.vals, 0)
		return p
	}
	return p.add(uint64(uint32(int32(v))), 4)
}

// F32 appends a float32 (4 bytes).
func (p *Params) F32(v float32) *Params { return p.add(uint64(math.Float32bits(v)), 4) }

// U64 appends a 64-bit integer.
func (p *Params) U64(v uint64) *Params { return p.add(v, 8) }

func (p *Params) add(v uint64, size int) *Params {
	p.vals = append(p.vals, v)
	p.sizes = append(p.sizes, size)
	return p
}

// Len is the number of parameters.
func (p *Params) Len() int { return len(p.vals) }

// Slot returns the raw 8-byte slot of parameter i (for tests).
func (p *Params) Slot(i int) uint64 { return p.vals[i] }

// Check reports a parameter that did not fit its C type.
func (p *Params) Check() error {
	for i, s := range p.sizes {
		if s < 0 {
			return fmt.Errorf("kernel parameter %d does not fit in a 32-bit int", i)
		}
	}
	return nil
}
