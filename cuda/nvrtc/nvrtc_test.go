package nvrtc

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/genbench/genbench/cuda/internal/dl"
)

// load returns the local NVRTC. Missing NVRTC fails the test when
// GENBENCH_TESTDATA is set (make test and CI install it), and skips it
// otherwise.
func load(t *testing.T) *NVRTC {
	t.Helper()
	n, err := Load(dl.Options{Env: dl.SystemEnv()})
	if err != nil {
		msg := "NVRTC is needed to compile kernels (run scripts/install-deps.sh): " + err.Error()
		if os.Getenv("GENBENCH_TESTDATA") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return n
}

const saxpy = `extern "C" __global__ void saxpy(float a, const float* x, float* y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + y[i];
}`

func TestCompileCubinAndPTX(t *testing.T) {
	n := load(t)
	if maj, _ := n.Version(); maj < 11 {
		t.Fatalf("NVRTC %s is too old", n.VersionString())
	}
	out, err := n.Compile(saxpy, "saxpy.cu", []string{"--gpu-architecture=sm_80", "--std=c++17"})
	if err != nil {
		t.Fatal(err)
	}
	if out.PTX || !bytes.HasPrefix(out.Image, []byte("\x7fELF")) {
		t.Fatalf("sm_80 output is not an ELF cubin (%d bytes, ptx=%v)", len(out.Image), out.PTX)
	}
	out, err = n.Compile(saxpy, "saxpy.cu", []string{"--gpu-architecture=compute_80"})
	if err != nil {
		t.Fatal(err)
	}
	if !out.PTX || !bytes.Contains(out.Image, []byte(".entry saxpy")) {
		t.Fatalf("compute_80 output is not PTX with the saxpy entry")
	}
}

func TestCompileErrorHasLog(t *testing.T) {
	n := load(t)
	_, err := n.Compile("extern \"C\" __global__ void k() { undeclared_thing(); }", "bad.cu", []string{"--gpu-architecture=sm_80"})
	if err == nil {
		t.Fatal("a broken kernel compiled")
	}
	if !strings.Contains(err.Error(), "undeclared_thing") || !strings.Contains(err.Error(), "bad.cu") {
		t.Fatalf("error lacks the compiler log: %v", err)
	}
}

func TestSupportedArchs(t *testing.T) {
	n := load(t)
	archs := n.SupportedArchs()
	if len(archs) == 0 {
		t.Fatalf("NVRTC %s does not list its architectures", n.VersionString())
	}
	has := map[int]bool{}
	for _, a := range archs {
		has[a] = true
	}
	if !has[80] {
		t.Fatalf("NVRTC %s lists %v, without sm_80", n.VersionString(), archs)
	}
}

// TestChooseVersion: the newest NVRTC not newer than the driver's CUDA
// version; a newer minor of the same major only as a cubin-only fallback;
// otherwise an error naming the driver's version.
func TestChooseVersion(t *testing.T) {
	v := func(p ...int) [][2]int {
		var out [][2]int
		for i := 0; i < len(p); i += 2 {
			out = append(out, [2]int{p[i], p[i+1]})
		}
		return out
	}
	for _, c := range []struct {
		found     [][2]int
		driver    int
		want      int
		cubinOnly bool
	}{
		{v(13, 0, 12, 8), 12080, 1, false},        // an RTX 5080 on 12.8: skip the CUDA 13 wheel
		{v(12, 4, 13, 0, 12, 8), 13000, 1, false}, // an H200 on 13.0: the newest
		{v(12, 8, 12, 9), 12090, 1, false},
		{v(11, 8, 12, 2), 12080, 1, false},
		{v(12, 9, 12, 6), 12040, 1, true},  // same major, newer minor: cubins only, the closest
		{v(13, 0), 0, 0, false},            // driver version unknown: the first found
		{v(12, 8, 12, 8), 12080, 0, false}, // ties keep the search order
	} {
		got, cubinOnly, err := ChooseVersion(c.found, c.driver)
		if err != nil || got != c.want || cubinOnly != c.cubinOnly {
			t.Errorf("ChooseVersion(%v, %d) = %d, %v, %v; want %d, %v", c.found, c.driver, got, cubinOnly, err, c.want, c.cubinOnly)
		}
	}
	_, _, err := ChooseVersion(v(13, 0, 13, 1), 12080)
	if err == nil || !strings.Contains(err.Error(), "CUDA 12.8") {
		t.Fatalf("only newer NVRTCs than a 12.8 driver: %v", err)
	}
	n := load(t)
	_, _, err = Choose([]*NVRTC{n}, 10020)
	if err == nil || !strings.Contains(err.Error(), "NVRTC "+n.VersionString()) || !strings.Contains(err.Error(), n.Path()) {
		t.Fatalf("the error must list the NVRTCs found: %v", err)
	}
	if got, _, err := Choose([]*NVRTC{n}, 99990); err != nil || got != n {
		t.Fatalf("Choose with a newer driver: %v", err)
	}
}

func TestLoadAll(t *testing.T) {
	load(t)
	all, err := LoadAll(dl.Options{Env: dl.SystemEnv()})
	if err != nil || len(all) == 0 {
		t.Fatalf("LoadAll: %d, %v", len(all), err)
	}
	for _, n := range all {
		if maj, _ := n.Version(); maj < 11 {
			t.Errorf("%s: version %s", n.Path(), n.VersionString())
		}
	}
	if _, err := LoadAll(dl.Options{Dirs: []string{t.TempDir()}}); err == nil || !strings.Contains(err.Error(), "NVRTC") {
		t.Fatalf("LoadAll of an empty folder: %v", err)
	}
}
