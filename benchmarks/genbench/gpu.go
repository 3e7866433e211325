package main

import (
	"fmt"
	"io"
)

// envGPU reports the GPUs and CUDA libraries the engine can use.
func (a *app) envGPU(w io.Writer) error {
	fmt.Fprintln(w, "gpus:    not probed: this build of the engine has no CUDA backend (device auto runs on the CPU)")
	return nil
}
