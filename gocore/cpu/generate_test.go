package cpu

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// TestKernelsUpToDate regenerates kernels_amd64.s with gen_kernels.py and
// checks that the committed file matches it.
func TestKernelsUpToDate(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found: cannot regenerate kernels_amd64.s")
	}
	out, err := exec.Command(py, "gen_kernels.py").Output()
	if err != nil {
		t.Fatalf("gen_kernels.py: %v", err)
	}
	have, err := os.ReadFile("kernels_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, have) {
		t.Fatal("kernels_amd64.s is stale: run `python3 gen_kernels.py > kernels_amd64.s` in gocore/cpu")
	}
}
