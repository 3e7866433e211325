package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/genbench/genbench/cuda/selftest"
	"github.com/genbench/genbench/gocore/model"
)

// selftest checks the GPU backend against the CPU reference.
func (a *app) selftest(ctx context.Context, args []string) error {
	fs, help := newFlags("selftest")
	device := fs.String("device", "cuda", "GPU to check: cuda or cuda:N")
	quick := fs.Bool("quick", false, "check the tiny models only (skip the full-size synthetic dev models)")
	models := fs.StringSlice("models", nil, "built-in models to check end to end (comma-separated; default: the tiny models and, without --quick, the three dev models)")
	seed := fs.Uint64("seed", 42, "seed of every random input")
	threads := fs.Int("threads", 0, "CPU reference worker threads (0 = all cores)")
	bandwidth := fs.Int64("bandwidth-bytes", 0, "buffer size of the copy-bandwidth measurement (0 = 1 GiB, negative = skip)")
	if err := a.parseFlags(fs, help, args, "genbench selftest [--device cuda:N] [--quick] [--models a,b]"); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q: selftest takes only flags", fs.Arg(0))
	}
	index := 0
	if *device != "cuda" {
		n, ok := strings.CutPrefix(*device, "cuda:")
		i, err := strconv.Atoi(n)
		if !ok || err != nil || i < 0 {
			return usagef("--device: %q: expected cuda or cuda:N (N = GPU index)", *device)
		}
		index = i
	}
	for _, m := range *models {
		if _, ok := model.Builtin(m); !ok {
			return usagef("--models: unknown built-in model %q: expected one of %s", m, strings.Join(model.BuiltinNames(), ", "))
		}
	}
	if *threads < 0 {
		return usagef("--threads: %d is negative: expected 0 (all cores) or a positive count", *threads)
	}
	opts := selftest.Options{
		Device: index, Seed: *seed, Models: *models, Quick: *quick,
		Threads: *threads, BandwidthBytes: *bandwidth,
	}
	if a.stderrTTY {
		opts.Backend.Progress = func(msg string) { fmt.Fprintln(a.stderr, msg) }
	}
	if err := selftest.Run(ctx, a.stdout, opts); err != nil {
		return fmt.Errorf("selftest: %w", err)
	}
	return nil
}
