// Package emudriver builds the emulated CUDA driver (kernels/emu/fakecuda.cpp:
// device memory in host memory, kernels on the CPU emulation of the same
// sources) as libcuda.so.1 in a temporary directory, for the tests of
// package cuda and of the packages built on it.
package emudriver

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/genbench/genbench/cuda/internal/dl"
	"github.com/genbench/genbench/cuda/nvrtc"
)

var once struct {
	sync.Once
	dir string
	err error
}

// Build compiles the emulated driver once per process and returns the
// directory holding libcuda.so.1. The error says what is missing: NVRTC
// (the emulated driver compiles the real kernel sources with it) or a C++
// compiler ($CXX, default g++).
func Build() (string, error) {
	once.Do(func() { once.dir, once.err = build() })
	return once.dir, once.err
}

// Dir is Build for a test: a missing C++ compiler or NVRTC fails the test
// when GENBENCH_TESTDATA is set (make test and CI install both) and skips
// it otherwise.
func Dir(tb testing.TB) string {
	tb.Helper()
	dir, err := Build()
	if err != nil {
		if os.Getenv("GENBENCH_TESTDATA") != "" {
			tb.Fatal(err)
		}
		tb.Skip(err)
	}
	return dir
}

func build() (string, error) {
	if _, err := nvrtc.Load(dl.Options{Env: dl.SystemEnv()}); err != nil {
		return "", fmt.Errorf("NVRTC is needed (run scripts/install-deps.sh): %w", err)
	}
	cxx := os.Getenv("CXX")
	if cxx == "" {
		cxx = "g++"
	}
	if _, err := exec.LookPath(cxx); err != nil {
		return "", fmt.Errorf("no C++ compiler (%s) to build the emulated driver: install g++ (scripts/install-deps.sh)", cxx)
	}
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("emudriver: cannot locate its own source to find kernels/emu/fakecuda.cpp")
	}
	src := filepath.Join(filepath.Dir(self), "..", "..", "kernels", "emu", "fakecuda.cpp")
	dir, err := os.MkdirTemp("", "genbench-fakecuda-")
	if err != nil {
		return "", fmt.Errorf("emudriver: %w", err)
	}
	cmd := exec.Command(cxx, "-std=c++17", "-O1", "-shared", "-fPIC", "-o", filepath.Join(dir, "libcuda.so.1"), src)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the emulated driver: %v\n%s", err, msg)
	}
	return dir, nil
}
