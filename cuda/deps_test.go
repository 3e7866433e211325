package cuda

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies: the backend (package cuda and every package it
// imports, tests aside) depends on gocore/backend, bf16 and sampling only,
// never on the CPU backend, the decoder, weights or model specs; the
// selftest that compares against those lives in cuda/selftest.
func TestDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the package's dependencies: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", "github.com/genbench/genbench/cuda").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	const mod = "github.com/genbench/genbench/"
	allowed := []string{"cuda", "gocore/backend", "gocore/bf16", "gocore/sampling"}
	seen := 0
	for _, p := range strings.Fields(string(out)) {
		rel, ok := strings.CutPrefix(p, mod)
		if !ok {
			continue // the standard library, x/sys, purego
		}
		seen++
		ok = false
		for _, a := range allowed {
			if rel == a || strings.HasPrefix(rel, a+"/") {
				ok = true
			}
		}
		if !ok || rel == "cuda/selftest" {
			t.Errorf("package cuda depends on %s; expected only %v (and cuda's own subpackages)", p, allowed)
		}
	}
	if seen < 4 {
		t.Fatalf("go list -deps listed %d packages of the module, expected cuda and gocore/backend at least:\n%s", seen, out)
	}
}
