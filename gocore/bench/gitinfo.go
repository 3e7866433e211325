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
		if c := readHead(gitDir(root)); c != "" {
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

// gitDir returns the git directory of the checkout at root: root/.git, or,
// in a linked worktree or submodule where .git is a file reading
// "gitdir: <path>", the directory it names (relative paths are relative to
// root).
func gitDir(root string) string {
	dotGit := filepath.Join(root, ".git")
	b, err := os.ReadFile(dotGit) // fails on the usual directory
	if err != nil {
		return dotGit
	}
	p, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir:")
	if !ok {
		return dotGit
	}
	return pathFrom(root, p)
}

// commonDir returns where a git directory's refs live: the directory its
// "commondir" file names (a linked worktree shares the main checkout's refs),
// else the git directory itself.
func commonDir(gitDir string) string {
	b, err := os.ReadFile(filepath.Join(gitDir, "commondir"))
	if err != nil || strings.TrimSpace(string(b)) == "" {
		return gitDir
	}
	return pathFrom(gitDir, string(b))
}

// pathFrom is the path a git file gives (trimmed, slash-separated),
// relative to base unless absolute.
func pathFrom(base, p string) string {
	p = filepath.FromSlash(strings.TrimSpace(p))
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, p)
	}
	return p
}

// readHead resolves HEAD of a git directory without running git: a
// detached commit, or a branch through refs/ or packed-refs (in the
// worktree's own directory first, then the shared common directory).
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
	dirs := []string{gitDir}
	if common := commonDir(gitDir); common != gitDir {
		dirs = append(dirs, common)
	}
	for _, dir := range dirs {
		if c := readRef(dir, ref); c != "" {
			return c
		}
	}
	return ""
}

// readRef resolves a branch ref in one git directory: its loose ref file,
// else its packed-refs; "" when neither has it.
func readRef(dir, ref string) string {
	if b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(ref))); err == nil {
		return hexCommit(strings.TrimSpace(string(b)))
	}
	b, err := os.ReadFile(filepath.Join(dir, "packed-refs"))
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
