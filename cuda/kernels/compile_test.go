package kernels

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/genbench/genbench/cuda/internal/dl"
	"github.com/genbench/genbench/cuda/nvrtc"
)

// loadNVRTC returns the local NVRTC; missing NVRTC fails when
// GENBENCH_TESTDATA is set (make test and CI install it) and skips otherwise.
func loadNVRTC(t *testing.T) *nvrtc.NVRTC {
	t.Helper()
	n, err := nvrtc.Load(dl.Options{Env: dl.SystemEnv()})
	if err != nil {
		msg := "NVRTC is needed to compile the kernels (run scripts/install-deps.sh): " + err.Error()
		if os.Getenv("GENBENCH_TESTDATA") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return n
}

// TestKernelsCompile compiles every embedded kernel source to cubins for
// sm_80 (A100, and the base of consumer GPUs' PTX) and sm_90 (H100) and
// checks that every listed entry point is in the image.
func TestKernelsCompile(t *testing.T) {
	n := loadNVRTC(t)
	listed := map[string]bool{}
	for _, m := range Modules() {
		listed[m.Name] = true
	}
	for _, f := range cuFiles() {
		if !listed[f] {
			t.Errorf("%s is embedded but not listed in Modules()", f)
		}
	}
	type job struct {
		m    Module
		arch int
	}
	var jobs []job
	for _, arch := range []int{80, 90} {
		for _, m := range Modules() {
			jobs = append(jobs, job{m, arch})
		}
	}
	var wg sync.WaitGroup
	errs := make([]string, len(jobs))
	sem := make(chan struct{}, 2)
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c := &Compiler{NVRTC: n, Target: Target{Arch: j.arch}}
			img, err := c.Compile(j.m)
			if err != nil {
				errs[i] = err.Error()
				return
			}
			if !bytes.HasPrefix(img.Data, []byte("\x7fELF")) {
				errs[i] = j.m.Name + ": not a cubin"
				return
			}
			for _, k := range j.m.Kernels {
				if !bytes.Contains(img.Data, []byte(k+"\x00")) {
					errs[i] += j.m.Name + ": entry point " + k + " missing; "
				}
			}
			if img.Log != "" && strings.Contains(img.Log, "warning") {
				t.Logf("%s sm_%d warnings:\n%s", j.m.Name, j.arch, img.Log)
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Error(e)
		}
	}
}

func TestChooseTarget(t *testing.T) {
	sup := []int{50, 60, 70, 75, 80, 86, 87, 89, 90}
	cases := []struct {
		cc     int
		cubins bool
		want   Target
	}{
		{90, true, Target{Arch: 90}},
		{80, true, Target{Arch: 80}},
		{120, true, Target{Arch: 90, PTX: true}}, // RTX 50xx with an NVRTC that predates it
		{100, true, Target{Arch: 90, PTX: true}},
		{90, false, Target{Arch: 90, PTX: true}},
	}
	for _, c := range cases {
		got, err := ChooseTarget(c.cc, sup, c.cubins)
		if err != nil || got != c.want {
			t.Errorf("ChooseTarget(%d, cubins=%v) = %v, %v; want %v", c.cc, c.cubins, got, err, c.want)
		}
	}
	if _, err := ChooseTarget(35, sup, true); err == nil {
		t.Error("ChooseTarget(35) below every supported arch succeeded")
	}
}

func TestCacheKey(t *testing.T) {
	base := CacheKey("src", []string{"-a"}, Target{Arch: 90}, "12.4")
	variants := []string{
		CacheKey("src2", []string{"-a"}, Target{Arch: 90}, "12.4"),
		CacheKey("src", []string{"-b"}, Target{Arch: 90}, "12.4"),
		CacheKey("src", []string{"-a"}, Target{Arch: 80}, "12.4"),
		CacheKey("src", []string{"-a"}, Target{Arch: 90, PTX: true}, "12.4"),
		CacheKey("src", []string{"-a"}, Target{Arch: 90}, "12.5"),
		// Concatenation must not collide: ("ab", "c") vs ("a", "bc").
		CacheKey("src", []string{"-a", "b"}, Target{Arch: 90}, "12.4"),
	}
	seen := map[string]bool{base: true}
	for i, v := range variants {
		if seen[v] {
			t.Errorf("variant %d collides", i)
		}
		seen[v] = true
	}
	if CacheKey("src", []string{"-a"}, Target{Arch: 90}, "12.4") != base {
		t.Error("the key is not deterministic")
	}
	if len(base) != 64 {
		t.Errorf("key %q is not a hex SHA-256", base)
	}
}

func TestWriteAtomic(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	p := filepath.Join(dir, "x.cubin")
	if err := WriteAtomic(p, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := WriteAtomic(p, []byte("two")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil || string(got) != "two" {
		t.Fatalf("read back %q, %v", got, err)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !reflect.DeepEqual(names, []string{"x.cubin"}) {
		t.Fatalf("temporary files left behind: %v", names)
	}
	// A folder that cannot be created is an error, not a panic.
	blocker := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocker, nil, 0o644)
	if err := WriteAtomic(filepath.Join(blocker, "sub", "x"), []byte("y")); err == nil {
		t.Fatal("write under a regular file succeeded")
	}
}

func TestCompilerUsesCache(t *testing.T) {
	n := loadNVRTC(t)
	dir := t.TempDir()
	c := &Compiler{NVRTC: n, Target: Target{Arch: 80}, CacheDir: dir}
	m := Modules()[1] // norm.cu, small
	first, err := c.Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	if first.Cached {
		t.Fatal("first compile claims a cache hit")
	}
	second, err := c.Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Cached || !bytes.Equal(first.Data, second.Data) {
		t.Fatalf("second compile: cached=%v, same=%v", second.Cached, bytes.Equal(first.Data, second.Data))
	}
	ptx := &Compiler{NVRTC: n, Target: Target{Arch: 80, PTX: true}, CacheDir: dir}
	img, err := ptx.Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	if img.Cached || !bytes.Contains(img.Data, []byte(".entry rmsnorm")) || img.Data[len(img.Data)-1] != 0 {
		t.Fatal("PTX target: expected a fresh, NUL-terminated PTX image with the rmsnorm entry")
	}
}

// TestOptionsNoGlobalRestrict: --restrict would make every kernel pointer
// __restrict__, which the aliased calls (rmsnorm in place, add and glu
// into an operand, the GEMV's in-place GLU and residual epilogues) break.
func TestOptionsNoGlobalRestrict(t *testing.T) {
	for _, tg := range []Target{{Arch: 80}, {Arch: 90}, {Arch: 120, PTX: true}} {
		for _, o := range Options(tg) {
			if o == "--restrict" || o == "-restrict" {
				t.Fatalf("Options(%s) contains %s", tg, o)
			}
		}
	}
}

// cuFiles lists the embedded .cu files: every one of them must appear in
// Modules.
func cuFiles() []string {
	ents, _ := sources.ReadDir(".")
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".cu") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// TestPDLInstructions: the kernels wait for their predecessor with
// griddepcontrol on sm_90 (programmatic dependent launch) and carry no such
// instruction below it, where it does not exist.
func TestPDLInstructions(t *testing.T) {
	n := loadNVRTC(t)
	m := Modules()[0]
	for _, c := range []struct {
		arch int
		want bool
	}{{90, true}, {80, false}} {
		img, err := (&Compiler{NVRTC: n, Target: Target{Arch: c.arch, PTX: true}}).Compile(m)
		if err != nil {
			t.Fatal(err)
		}
		ptx := string(img.Data)
		if got := strings.Contains(ptx, "griddepcontrol.wait") && strings.Contains(ptx, "griddepcontrol.launch_dependents"); got != c.want {
			t.Errorf("compute_%d PTX of %s: griddepcontrol present = %v, want %v", c.arch, m.Name, got, c.want)
		}
	}
}
