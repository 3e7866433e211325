package engine

import (
	"errors"

	"github.com/genbench/genbench/gocore/backend"
)

// errNoCUDA explains that this build has no GPU backend yet.
var errNoCUDA = errors.New("engine: device cuda: no CUDA backend in this build (use --device cpu or auto)")

// cudaAvailable reports whether "auto" should pick the GPU.
func cudaAvailable() bool { return false }

// openCUDA opens the CUDA backend on device index.
func openCUDA(index int) (backend.Backend, error) {
	_ = index
	return nil, errNoCUDA
}
