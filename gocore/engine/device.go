package engine

import (
	"context"
	"fmt"

	"github.com/genbench/genbench/cuda"
	"github.com/genbench/genbench/gocore/backend"
)

// cudaAvailable reports whether "auto" should pick the GPU: the CUDA driver
// and NVRTC load and a GPU of compute capability 8.0 or newer is present.
func cudaAvailable() bool {
	return cuda.Probe(cuda.Options{}).Usable()
}

// openCUDA opens the CUDA backend on GPU index.
func openCUDA(ctx context.Context, index int, progress func(string)) (backend.Backend, error) {
	be, err := cuda.Open(ctx, index, cuda.Options{Progress: progress})
	if err != nil {
		return nil, fmt.Errorf("engine: device cuda:%d: %w", index, err)
	}
	return be, nil
}
