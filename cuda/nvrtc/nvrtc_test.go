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
