package dl

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func touch(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("not an ELF file"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCandidatesOrder(t *testing.T) {
	root := t.TempDir()
	home := filepath.Join(root, "home")
	cudaHome := filepath.Join(root, "opt", "cuda")
	usrLocal := filepath.Join(root, "usr", "local")
	venv := filepath.Join(root, "venv")
	pyPrefix := filepath.Join(root, "py")

	touch(t, filepath.Join(cudaHome, "lib64", "libnvrtc.so.12"))
	touch(t, filepath.Join(usrLocal, "cuda-12.4", "lib64", "libnvrtc.so.12"))
	touch(t, filepath.Join(usrLocal, "cuda-13.0", "lib64", "libnvrtc.so.13"))
	touch(t, filepath.Join(usrLocal, "cuda-13.0", "lib64", "libnvrtc-builtins.so.13.0"))
	touch(t, filepath.Join(venv, "lib", "python3.12", "site-packages", "nvidia", "cuda_nvrtc", "lib", "libnvrtc.so.12"))
	touch(t, filepath.Join(home, ".local", "lib", "python3.11", "site-packages", "nvidia", "cu13", "lib", "libnvrtc.so.13"))
	touch(t, filepath.Join(pyPrefix, "lib", "python3.10", "site-packages", "nvidia", "cuda_nvrtc", "lib", "libnvrtc.so.11.2"))
	// A folder without the library is not listed.
	if err := os.MkdirAll(filepath.Join(usrLocal, "cuda-11.8", "lib64"), 0o755); err != nil {
		t.Fatal(err)
	}

	env := Env{
		Getenv: func(k string) string {
			switch k {
			case "CUDA_HOME":
				return cudaHome
			case "VIRTUAL_ENV":
				return venv
			}
			return ""
		},
		Home:           home,
		Roots:          []string{usrLocal},
		PythonPrefixes: []string{pyPrefix},
	}
	got := Candidates(NVRTC(), Options{Env: env})
	want := []string{
		"libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so.11.1", "libnvrtc.so.11.0",
		filepath.Join(cudaHome, "lib64", "libnvrtc.so.12"),
		filepath.Join(usrLocal, "cuda-13.0", "lib64", "libnvrtc.so.13"),
		filepath.Join(usrLocal, "cuda-12.4", "lib64", "libnvrtc.so.12"),
		filepath.Join(venv, "lib", "python3.12", "site-packages", "nvidia", "cuda_nvrtc", "lib", "libnvrtc.so.12"),
		filepath.Join(home, ".local", "lib", "python3.11", "site-packages", "nvidia", "cu13", "lib", "libnvrtc.so.13"),
		filepath.Join(pyPrefix, "lib", "python3.10", "site-packages", "nvidia", "cuda_nvrtc", "lib", "libnvrtc.so.11.2"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("candidates:\n got  %q\n want %q", got, want)
	}
}

func TestCandidatesDriverUsesLoaderOnly(t *testing.T) {
	root := t.TempDir()
	touch(t, filepath.Join(root, "cuda", "lib64", "stubs", "libcuda.so"))
	got := Candidates(Driver(), Options{Env: Env{Roots: []string{root}}})
	want := []string{"libcuda.so.1", "libcuda.so"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestVersionOrder(t *testing.T) {
	m := []string{"/a/libnvrtc.so.11.2", "/a/libnvrtc.so.13", "/a/libnvrtc.so.12.4.1", "/a/libnvrtc.so.12"}
	sortByVersionDesc(m)
	want := []string{"/a/libnvrtc.so.13", "/a/libnvrtc.so.12.4.1", "/a/libnvrtc.so.12", "/a/libnvrtc.so.11.2"}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got %q, want %q", m, want)
	}
}

func TestOpenMissingLibrary(t *testing.T) {
	empty := t.TempDir()
	_, err := Open(NVRTC(), Options{Dirs: []string{empty}})
	if err == nil {
		t.Fatal("Open in an empty folder succeeded")
	}
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("error does not wrap ErrNotFound: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"NVRTC", filepath.Join(empty, "libnvrtc.so.12"), "not found", "install NVRTC"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
}

func TestOpenRejectsBrokenFile(t *testing.T) {
	dir := t.TempDir()
	touch(t, filepath.Join(dir, "libcuda.so.1"))
	_, err := Open(Driver(), Options{Dirs: []string{dir}})
	if err == nil {
		t.Fatal("Open of a non-ELF file succeeded")
	}
	bad := filepath.Join(dir, "libcuda.so.1")
	if !strings.Contains(err.Error(), bad+" (") || strings.Contains(err.Error(), bad+" (not found)") {
		t.Fatalf("error should name the broken file with its loader error: %v", err)
	}
}
