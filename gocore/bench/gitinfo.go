package bench

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// moduleRootPath is the module whose checkout gitFromCheckout looks for.
const moduleRootPath = "github.com/genbench/genbench"

// Where Environment.GitCommit came from.
const (
	GitFromBuild    = "build"    // stamped into the binary by go build
	GitFromCheckout = "checkout" // read from the checkout the process runs in
	GitUnknown      = "unknown"
)

// gitInfo returns the commit the engine was built from: the build's
// vcs.revision when go build stamped it, else the HEAD of the genbench
// checkout around the working directory (builds with -buildvcs=false),
// else "unknown".
func gitInfo() (commit string, dirty bool, source string) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if commit != "" {
			return commit, dirty, GitFromBuild
		}
	}
	if root := ModuleRoot(); root != "" {
		if c := readHead(filepath.Join(root, ".git")); c != "" {
			return c, false, GitFromCheckout
		}
	}
	return "unknown", false, GitUnknown
}

// ModuleRoot returns the root directory of the genbench checkout that
// contains the working directory (the directory of a go.mod declaring this
// module), or "" when there is none.
func ModuleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if declaresModule(filepath.Join(dir, "go.mod")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// declaresModule reports whether path is a go.mod declaring this module.
func declaresModule(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(m), `"`) == moduleRootPath
		}
	}
	return false
}

// readHead resolves HEAD of a .git directory without running git: a
// detached commit, or a branch through refs/ or packed-refs.
func readHead(gitDir string) string {
	b, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return ""
	}
	head := strings.TrimSpace(string(b))
	ref, ok := strings.CutPrefix(head, "ref: ")
	if !ok {
		return hexCommit(head)
	}
	if strings.Contains(ref, "..") {
		return ""
	}
	if b, err := os.ReadFile(filepath.Join(gitDir, filepath.FromSlash(ref))); err == nil {
		return hexCommit(strings.TrimSpace(string(b)))
	}
	b, err = os.ReadFile(filepath.Join(gitDir, "packed-refs"))
	if err != nil {
		return ""
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if c, name, ok := strings.Cut(strings.TrimSpace(line), " "); ok && name == ref {
			return hexCommit(c)
		}
	}
	return ""
}

// hexCommit returns s when it looks like a commit hash, else "".
func hexCommit(s string) string {
	if len(s) != 40 && len(s) != 64 {
		return ""
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return ""
		}
	}
	return s
}
