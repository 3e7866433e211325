package cuda

import (
	"testing"

	"github.com/genbench/genbench/gocore/backendtest"
)

// The op table of gocore/backendtest on the emulated driver: every kernel,
// through the whole backend, against the CPU reference (the large shapes
// are left to a real GPU).
func TestEmulatedBackendOps(t *testing.T) {
	b := openEmulated(t)
	for _, r := range backendtest.Run(b, backendtest.Cases(true), 1) {
		if !r.Pass {
			t.Error(r)
		} else {
			t.Log(r)
		}
	}
}
