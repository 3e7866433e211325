// Command cudacheck runs the CUDA backend's selftest (every GPU op against
// the CPU reference, the device sampler, graph replay, whole-model logits)
// and measures the GPU's copy bandwidth. It is what scripts/device-check.sh
// runs on a GPU machine without a Go toolchain; `genbench selftest` offers the same.
//
// Usage:
//
//	cudacheck [--device N] [--quick] [--models-only] [--models a,b] [--seed N] [--bandwidth-json FILE]
//
// Each check's row is printed as soon as it ends; --quick runs every op,
// the device sampler, graph replay and the tiny models (a minute at most),
// --models-only only the whole-model checks (the full-size dev models by
// default), so a device check can run the two as separately time-boxed
// steps.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/genbench/genbench/cuda"
	"github.com/genbench/genbench/cuda/selftest"
)

func main() {
	device := flag.Int("device", 0, "GPU ordinal")
	quick := flag.Bool("quick", false, "skip the full-size synthetic models")
	modelsOnly := flag.Bool("models-only", false, "only the whole-model checks (default models: the full-size dev models)")
	models := flag.String("models", "", "comma-separated built-in model names to check (default: tiny + dev models)")
	seed := flag.Uint64("seed", 42, "seed of the random inputs and synthetic weights")
	bwJSON := flag.String("bandwidth-json", "", "also write the probe and copy bandwidth as JSON to this file")
	probeOnly := flag.Bool("probe", false, "only print what Probe finds")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	p := cuda.Probe(cuda.Options{})
	js, _ := json.MarshalIndent(p, "", "  ")
	fmt.Printf("probe: %s\n", js)
	if *probeOnly {
		return
	}
	if !p.Usable() {
		fmt.Fprintln(os.Stderr, "cudacheck:", p.Reason())
		os.Exit(1)
	}
	if *bwJSON != "" {
		if err := writeBandwidth(ctx, *device, p, *bwJSON); err != nil {
			fmt.Fprintln(os.Stderr, "cudacheck: bandwidth:", err)
		}
	}
	opts := selftest.Options{Device: *device, Seed: *seed, Quick: *quick, BandwidthBytes: -1,
		Backend: cuda.Options{Progress: func(s string) { fmt.Fprintln(os.Stderr, s) }}}
	if *models != "" {
		opts.Models = strings.Split(*models, ",")
	}
	if *modelsOnly {
		opts.SkipOps = true
		if opts.Models == nil {
			full := selftest.DefaultModels(false)
			opts.Models = full[len(selftest.DefaultModels(true)):]
		}
	}
	if err := selftest.Run(ctx, os.Stdout, opts); err != nil {
		fmt.Fprintln(os.Stderr, "cudacheck:", err)
		os.Exit(1)
	}
}

func writeBandwidth(ctx context.Context, device int, p *cuda.ProbeResult, path string) error {
	b, err := cuda.Open(ctx, device, cuda.Options{})
	if err != nil {
		return err
	}
	defer b.Close()
	bw, err := b.CopyBandwidth(1<<30, 20)
	if err != nil {
		return err
	}
	fmt.Printf("copy bandwidth: %.1f GB/s\n", bw/1e9)
	out := map[string]any{"probe": p, "copy_bandwidth_bytes_per_s": bw, "method": "cuMemcpyDtoDAsync 1 GiB, median of 20, read+write bytes"}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
