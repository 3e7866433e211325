package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/genbench/genbench/cuda"
	"github.com/genbench/genbench/gocore/bench"
)

// envGPU reports the CUDA libraries and GPUs the engine can find.
func (a *app) envGPU(w io.Writer) error {
	p := cuda.Probe(cuda.Options{})
	if p.DriverLibrary != "" {
		fmt.Fprintf(w, "cuda driver: %s (driver %s, CUDA %s)\n", p.DriverLibrary, orUnknown(p.DriverVersion), orUnknown(p.DriverCUDAVersion))
	} else {
		fmt.Fprintf(w, "cuda driver: not found (%s)\n", oneLineText(p.DriverError))
	}
	if p.NVRTCLibrary != "" {
		archs := make([]string, len(p.NVRTCArchs))
		for i, a := range p.NVRTCArchs {
			archs[i] = fmt.Sprintf("sm_%d", a)
		}
		fmt.Fprintf(w, "nvrtc:   %s (version %s; %s)\n", p.NVRTCLibrary, orUnknown(p.NVRTCVersion), strings.Join(archs, " "))
	} else {
		fmt.Fprintf(w, "nvrtc:   not found (%s)\n", oneLineText(p.NVRTCError))
	}
	if len(p.GPUs) == 0 {
		fmt.Fprintln(w, "gpus:    none")
	}
	for _, g := range p.GPUs {
		fmt.Fprintf(w, "gpu %d:   %s, compute %s, %s, %d SMs", g.Index, g.Name, g.ComputeCapability(), bench.FormatBytes(g.MemoryBytes), g.SMs)
		if bw := g.TheoreticalBandwidth(); bw > 0 {
			fmt.Fprintf(w, ", %.0f GB/s theoretical", bw/1e9)
		}
		fmt.Fprintln(w)
	}
	if p.Usable() {
		fmt.Fprintln(w, "cuda backend: usable")
	} else {
		fmt.Fprintf(w, "cuda backend: not usable (%s); --device auto runs on the CPU\n", oneLineText(p.Reason()))
	}
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// oneLineText flattens a multi-line message.
func oneLineText(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}
