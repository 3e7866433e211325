package selftest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genbench/genbench/cuda"
	"github.com/genbench/genbench/cuda/cu"
	"github.com/genbench/genbench/cuda/internal/emudriver"
	"github.com/genbench/genbench/gocore/backend"
	"github.com/genbench/genbench/gocore/model"
)

func TestRunWithoutLibraries(t *testing.T) {
	empty := t.TempDir()
	var out strings.Builder
	err := Run(context.Background(), &out, Options{Backend: cuda.Options{LibDirs: []string{empty}}})
	if err == nil || !strings.Contains(err.Error(), "NVRTC") {
		t.Fatalf("selftest without libraries: %v", err)
	}
}

func TestStickyError(t *testing.T) {
	for code, want := range map[int]bool{700: true, 716: true, 719: true, 1: false, 2: false, 701: false} {
		err := fmt.Errorf("launch: %w", &cu.Error{Op: "cuLaunchKernel(gemv)", Code: code})
		if got := stickyError(err); got != want {
			t.Errorf("stickyError(code %d) = %v", code, got)
		}
	}
	if stickyError(errors.New("cuda: a position was outside the KV cache")) {
		t.Error("a device error word is not sticky")
	}
}

// emulatedDriver is the directory of the emulated libcuda.so.1 (built once).
func emulatedDriver(t *testing.T) string { t.Helper(); return emudriver.Dir(t) }

func openEmulated(t *testing.T, pdl bool) *cuda.Backend {
	t.Helper()
	dir := emulatedDriver(t)
	b, err := cuda.Open(context.Background(), 0, cuda.Options{DriverLibDirs: []string{dir}, KernelCacheDir: filepath.Join(dir, "kernels"), PDL: pdl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// TestEmulatedModels runs tiny models end to end on the emulated driver,
// GPU against CPU: prefill and decode steps replayed from a captured
// graph, with and without fusion; then the decode chain and graph replay.
func TestEmulatedModels(t *testing.T) {
	b := openEmulated(t, false)
	st := &selftest{b: b, rng: rand.New(rand.NewPCG(1, 2))}
	for _, c := range []struct {
		name string
		fuse bool
	}{{model.TinyQwen3, true}, {model.TinyQwen3, false}, {model.TinyGemma3, true}} {
		if err := b.SetFusion(c.fuse); err != nil {
			t.Fatal(err)
		}
		if b.Fusion() != c.fuse {
			t.Fatalf("SetFusion(%v) then Fusion() = %v", c.fuse, b.Fusion())
		}
		r := st.model(c.name, 7, 2)
		if r.err != nil || !r.pass {
			t.Errorf("%s (fusion %v): %s %v", c.name, c.fuse, r.metric, r.err)
		}
	}
	if err := b.SetFusion(true); err != nil {
		t.Fatal(err)
	}
	if r := st.decodeChainCase(72, 200, backend.GemmaNorm, backend.GELUTanh); r.err != nil || !r.pass {
		t.Errorf("decode chain: %s %v", r.metric, r.err)
	}
	for _, r := range st.graph() {
		if r.err != nil || !r.pass {
			t.Errorf("graph: %s %v", r.metric, r.err)
		}
	}
}

// TestEmulatedPDL runs the decode chain, graph capture and replay and a
// tiny model with every kernel launched through cuLaunchKernelEx with
// programmatic stream serialization (package cuda's TestEmulatedPDL checks
// that Options.PDL turns it on for the emulated sm_90 device).
func TestEmulatedPDL(t *testing.T) {
	b := openEmulated(t, true)
	st := &selftest{b: b, rng: rand.New(rand.NewPCG(5, 6))}
	if r := st.decodeChainCase(72, 200, backend.LlamaNorm, backend.SiLU); r.err != nil || !r.pass {
		t.Fatalf("decode chain: %s %v", r.metric, r.err)
	}
	for _, r := range st.graph() {
		if r.err != nil || !r.pass {
			t.Fatalf("graph: %s %v", r.metric, r.err)
		}
	}
	if r := st.model(model.TinyLlama, 3, 2); r.err != nil || !r.pass {
		t.Fatalf("tiny llama: %s %v", r.metric, r.err)
	}
}

// TestEmulatedModelsOnly runs the whole-model pass (cudacheck
// --models-only) on the emulated driver: one row per check, then the
// verdict.
func TestEmulatedModelsOnly(t *testing.T) {
	dir := emulatedDriver(t)
	var out strings.Builder
	err := Run(context.Background(), &out, Options{
		Backend: cuda.Options{DriverLibDirs: []string{dir}, KernelCacheDir: filepath.Join(dir, "kernels")},
		Seed:    1, Models: []string{model.TinyLlama}, SkipOps: true, BandwidthBytes: -1,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[1], "check ") || !strings.HasPrefix(lines[2], "model tiny-llama ") ||
		!strings.Contains(lines[3], "(unfused)") || !strings.HasSuffix(lines[2], "ok") || !strings.HasSuffix(lines[3], "ok") || lines[4] != "all 2 checks passed" {
		t.Fatalf("selftest output:\n%s", out.String())
	}
}

// TestEmulatedSamplerPlan runs the selftest's whole sampler plan (the
// real vocabularies: greedy, penalties, the T -> 0 limit, the Llama and
// Qwen3 stacks through the top-k first pass, a crowded histogram bin that
// falls back to the whole vocabulary, top-p alone, the full softmax) on
// the emulated driver, so that the plan the device check runs is known to
// pass where the kernels' logic is concerned.
func TestEmulatedSamplerPlan(t *testing.T) {
	b := openEmulated(t, false)
	st := &selftest{b: b, rng: rand.New(rand.NewPCG(1, 2))}
	res := st.sampler()
	if len(res) < 10 {
		t.Fatalf("the sampler plan has %d checks, want at least 10", len(res))
	}
	for _, r := range res {
		if r.err != nil || !r.pass {
			t.Errorf("%s (%s): %s, want %s: %v", r.name, r.shape, r.metric, r.tol, r.err)
		}
	}
}
