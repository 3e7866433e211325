package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// git runs git in dir and returns its trimmed output.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestReadHeadMatchesGit checks the commit read without git against
// `git rev-parse HEAD` for a main checkout (loose and packed refs), a
// detached HEAD, and a linked worktree (.git is a "gitdir:" file whose refs
// live in the main checkout's common directory).
func TestReadHeadMatchesGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is needed as the reference for this test: %v", err)
	}
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	if err := os.Mkdir(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	git(t, repo, "init", "-q", "-b", "main")
	if err := os.WriteFile(filepath.Join(repo, "a"), []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, repo, "add", "a")
	git(t, repo, "commit", "-q", "-m", "one")
	git(t, repo, "commit", "-q", "--allow-empty", "-m", "two")

	check := func(name, dir string) {
		t.Helper()
		want := git(t, dir, "rev-parse", "HEAD")
		if got := readHead(gitDir(dir)); got != want {
			t.Errorf("%s: readHead = %q, git rev-parse HEAD = %q", name, got, want)
		}
	}
	check("loose ref", repo)

	wt := filepath.Join(root, "wt")
	git(t, repo, "worktree", "add", "-q", "-b", "side", wt)
	git(t, wt, "commit", "-q", "--allow-empty", "-m", "three")
	if fi, err := os.Stat(filepath.Join(wt, ".git")); err != nil || fi.IsDir() {
		t.Fatalf("worktree .git should be a file: %v", err)
	}
	check("worktree, loose ref", wt)

	git(t, repo, "pack-refs", "--all")
	check("packed ref", repo)
	check("worktree, packed ref", wt)

	git(t, wt, "checkout", "-q", "--detach", "HEAD~1")
	check("worktree, detached", wt)
}
