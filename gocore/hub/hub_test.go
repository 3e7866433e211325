package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/genbench/genbench/gocore/tty"
)

const (
	testRepo   = "acme/tiny-llama"
	testCommit = "0123456789abcdef0123456789abcdef01234567"
	testToken  = "hf_secretTOKENvalue123"
)

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// singleFileModel is a repository with one safetensors file (LFS) and no
// generation_config.json.
func singleFileModel() map[string]fakeFile {
	return map[string]fakeFile{
		"config.json":           {data: []byte(`{"architectures":["LlamaForCausalLM"]}`)},
		"tokenizer.json":        {data: []byte(`{"model":{"type":"BPE"}}`)},
		"tokenizer_config.json": {data: []byte(`{"bos_token":"<s>"}`)},
		"README.md":             {data: []byte("not needed")},
		"model.safetensors":     {data: randomBytes(300_000, 1), lfs: true},
	}
}

// testOptions points Resolve at the fake hub and an empty cache.
func testOptions(f *fakeHub, cache string) Options {
	return Options{Revision: "main", CacheDir: cache, Endpoint: f.hub.URL, HTTPClient: f.hub.Client()}
}

// walkTree lists every entry under root: "dir/", "file", or
// "link -> target" for symlinks, sorted.
func walkTree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out = append(out, rel+" -> "+target)
		case d.IsDir():
			out = append(out, rel+"/")
		default:
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	slices.Sort(out)
	return out
}

func TestFreshDownloadMatchesHubLayoutAndSecondRunIsOffline(t *testing.T) {
	f := newFakeHub(t)
	files := singleFileModel()
	f.addRepo(testRepo, testCommit, files)
	cache := t.TempDir()

	dir, err := Resolve(context.Background(), testRepo, testOptions(f, cache))
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	repoDir := filepath.Join(cache, "models--acme--tiny-llama")
	if want := filepath.Join(repoDir, "snapshots", testCommit); dir != want {
		t.Fatalf("dir = %s, want %s", dir, want)
	}

	// The layout huggingface_hub documents (cache-management guide):
	// blobs named by etag (git sha1 for regular files, sha256 for LFS
	// files), refs/main holding the commit, snapshot entries as relative
	// symlinks to ../../blobs/<etag>, and .no_exist/<commit>/<file> for a
	// file the repository lacks; locks under <cache>/.locks/<repo folder>/.
	etag := func(name string) string {
		ff := files[name]
		if ff.lfs {
			return sha256Hex(ff.data)
		}
		return gitBlobSHA1(ff.data)
	}
	want := []string{
		".locks/",
		".locks/models--acme--tiny-llama/",
		"models--acme--tiny-llama/",
		"models--acme--tiny-llama/.no_exist/",
		"models--acme--tiny-llama/.no_exist/" + testCommit + "/",
		"models--acme--tiny-llama/.no_exist/" + testCommit + "/generation_config.json",
		"models--acme--tiny-llama/blobs/",
		"models--acme--tiny-llama/refs/",
		"models--acme--tiny-llama/refs/main",
		"models--acme--tiny-llama/snapshots/",
		"models--acme--tiny-llama/snapshots/" + testCommit + "/",
	}
	for _, name := range []string{"config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"} {
		want = append(want,
			"models--acme--tiny-llama/blobs/"+etag(name),
			"models--acme--tiny-llama/snapshots/"+testCommit+"/"+name+" -> ../../blobs/"+etag(name))
	}
	for _, name := range []string{"config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"} {
		want = append(want, ".locks/models--acme--tiny-llama/"+etag(name)+".lock")
	}
	slices.Sort(want)
	got := walkTree(t, cache)
	if !slices.Equal(got, want) {
		t.Fatalf("cache tree differs from the huggingface_hub layout\n got: %q\nwant: %q", got, want)
	}
	ref, err := os.ReadFile(filepath.Join(repoDir, "refs", "main"))
	if err != nil || string(ref) != testCommit {
		t.Fatalf("refs/main = %q, %v; want %q", ref, err, testCommit)
	}
	for _, name := range []string{"config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(b, files[name].data) {
			t.Fatalf("%s through the snapshot: err %v, content equal %v", name, err, bytes.Equal(b, files[name].data))
		}
	}

	// The LFS content came from the CDN; README.md was never requested.
	var cdnGets int
	for _, e := range f.requests() {
		if strings.Contains(e.path, "README.md") {
			t.Errorf("unneeded file requested: %+v", e)
		}
		if e.server == "cdn" && e.method == http.MethodGet {
			cdnGets++
		}
	}
	if cdnGets != 1 {
		t.Errorf("CDN GETs = %d, want 1", cdnGets)
	}

	// A second run makes no request at all.
	before := len(f.requests())
	dir2, err := Resolve(context.Background(), testRepo, testOptions(f, cache))
	if err != nil || dir2 != dir {
		t.Fatalf("second Resolve = %q, %v; want %q", dir2, err, dir)
	}
	if n := len(f.requests()) - before; n != 0 {
		t.Fatalf("second run made %d requests, want 0: %+v", n, f.requests()[before:])
	}
	// Offline works too, with a client that fails any request.
	opts := testOptions(f, cache)
	opts.Offline = true
	opts.HTTPClient = failingClient(t)
	if dir3, err := Resolve(context.Background(), testRepo, opts); err != nil || dir3 != dir {
		t.Fatalf("offline Resolve = %q, %v; want %q", dir3, err, dir)
	}
}

// failingClient fails the test on any request.
func failingClient(t *testing.T) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
		return nil, errors.New("network disabled in this test")
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTokenGoesToHubOnlyAndNeverIntoErrors(t *testing.T) {
	f := newFakeHub(t)
	r := f.addRepo(testRepo, testCommit, singleFileModel())
	r.token = testToken
	cache := t.TempDir()

	// No token: 401, gated message, says no token was sent.
	_, err := Resolve(context.Background(), testRepo, testOptions(f, cache))
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("no token: err = %v, want ErrUnauthorized", err)
	}
	for _, s := range []string{"gated", "licence", f.hub.URL + "/" + testRepo, "HF_TOKEN", "no token was sent", "401"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("no-token error lacks %q: %v", s, err)
		}
	}

	// A wrong token: 403, says a token was sent, never shows it.
	opts := testOptions(f, cache)
	opts.Token = "hf_wrongTOKEN999"
	_, err = Resolve(context.Background(), testRepo, opts)
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("wrong token: err = %v, want ErrUnauthorized", err)
	}
	for _, s := range []string{"gated", "a token was sent", "403"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("wrong-token error lacks %q: %v", s, err)
		}
	}
	if strings.Contains(err.Error(), "hf_wrongTOKEN999") {
		t.Errorf("error shows the token: %v", err)
	}

	// The right token: works; sent to the hub, never to the CDN.
	opts.Token = testToken
	if _, err := Resolve(context.Background(), testRepo, opts); err != nil {
		t.Fatalf("good token: %v", err)
	}
	var hubAuth, cdnReq int
	for _, e := range f.requests() {
		if e.server == "cdn" {
			cdnReq++
			if e.auth != "" {
				t.Errorf("Authorization sent to the CDN: %+v", e)
			}
		} else if e.auth == "Bearer "+testToken {
			hubAuth++
		}
	}
	if hubAuth == 0 || cdnReq == 0 {
		t.Errorf("hub requests with token = %d, CDN requests = %d; want both > 0", hubAuth, cdnReq)
	}
}

func TestNotFound(t *testing.T) {
	f := newFakeHub(t)
	f.addRepo(testRepo, testCommit, singleFileModel())
	cache := t.TempDir()

	_, err := Resolve(context.Background(), "acme/no-such-model", testOptions(f, cache))
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown repo: err = %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "check the id and the revision") || !strings.Contains(err.Error(), "acme/no-such-model") {
		t.Errorf("unknown repo error: %v", err)
	}

	opts := testOptions(f, cache)
	opts.Revision = "v9.9"
	_, err = Resolve(context.Background(), testRepo, opts)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `revision "v9.9"`) || !strings.Contains(err.Error(), "check the revision") {
		t.Fatalf("unknown revision: err = %v", err)
	}

	// A repo without weights.
	f.addRepo("acme/no-weights", testCommit, map[string]fakeFile{
		"config.json":           {data: []byte(`{}`)},
		"tokenizer.json":        {data: []byte(`{}`)},
		"tokenizer_config.json": {data: []byte(`{}`)},
	})
	_, err = Resolve(context.Background(), "acme/no-weights", testOptions(f, cache))
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "model.safetensors.index.json") {
		t.Fatalf("no weights: err = %v", err)
	}
	// A repo without a required file.
	f.addRepo("acme/no-tokenizer", testCommit, map[string]fakeFile{"config.json": {data: []byte(`{}`)}})
	_, err = Resolve(context.Background(), "acme/no-tokenizer", testOptions(f, cache))
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "file tokenizer.json not found") {
		t.Fatalf("missing tokenizer: err = %v", err)
	}
}

func TestInterruptedDownloadIsResumedWithRange(t *testing.T) {
	f := newFakeHub(t)
	files := singleFileModel()
	f.addRepo(testRepo, testCommit, files)
	const cut = 100_000
	f.cutAfter["model.safetensors"] = cut
	cache := t.TempDir()

	dir, err := Resolve(context.Background(), testRepo, testOptions(f, cache))
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	var ranges []string
	for _, e := range f.requests() {
		if e.server == "cdn" {
			ranges = append(ranges, e.rng)
		}
	}
	if want := []string{"", "bytes=100000-"}; !slices.Equal(ranges, want) {
		t.Fatalf("CDN Range headers = %q, want %q", ranges, want)
	}
	b, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if err != nil || !bytes.Equal(b, files["model.safetensors"].data) {
		t.Fatalf("resumed file differs (err %v)", err)
	}
}

func TestCancelledDownloadLeavesOnlyIncompleteAndResumesNextRun(t *testing.T) {
	f := newFakeHub(t)
	files := singleFileModel()
	f.addRepo(testRepo, testCommit, files)
	const sent = 120_000
	f.block["model.safetensors"] = sent
	cache := t.TempDir()
	blob := filepath.Join(cache, "models--acme--tiny-llama", "blobs", sha256Hex(files["model.safetensors"].data))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-f.blocked
		// Cancel once the client has written what the server sent.
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if fi, err := os.Stat(blob + ".incomplete"); err == nil && fi.Size() == sent {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	_, err := Resolve(ctx, testRepo, testOptions(f, cache))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	fi, err := os.Stat(blob + ".incomplete")
	if err != nil || fi.Size() != sent {
		t.Fatalf(".incomplete: %v, size %v; want %d bytes", err, fi, sent)
	}
	// Nothing looks complete: no blob, no snapshot entry, no ref.
	if _, err := os.Lstat(blob); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("blob exists after an interrupted download: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(cache, "models--acme--tiny-llama", "snapshots", testCommit, "model.safetensors")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("snapshot entry exists after an interrupted download: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cache, "models--acme--tiny-llama", "refs", "main")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("refs/main written before the snapshot was complete: %v", err)
	}
	opts := testOptions(f, cache)
	opts.Offline = true
	if _, err := Resolve(context.Background(), testRepo, opts); !errors.Is(err, ErrNotCached) {
		t.Errorf("offline after interruption: err = %v, want ErrNotCached", err)
	}

	before := len(f.requests())
	dir, err := Resolve(context.Background(), testRepo, testOptions(f, cache))
	if err != nil {
		t.Fatalf("second Resolve: %v", err)
	}
	var ranges []string
	for _, e := range f.requests()[before:] {
		if e.server == "cdn" {
			ranges = append(ranges, e.rng)
		}
	}
	if want := []string{"bytes=120000-"}; !slices.Equal(ranges, want) {
		t.Fatalf("second run CDN Range headers = %q, want %q", ranges, want)
	}
	b, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if err != nil || !bytes.Equal(b, files["model.safetensors"].data) {
		t.Fatalf("resumed file differs (err %v)", err)
	}
	if _, err := os.Stat(blob + ".incomplete"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf(".incomplete left behind: %v", err)
	}
}

func TestCorruptedBodyIsRemovedAndNothingElseTouched(t *testing.T) {
	f := newFakeHub(t)
	files := singleFileModel()
	f.addRepo(testRepo, testCommit, files)
	f.corrupt["model.safetensors"] = true
	cache := t.TempDir()
	repoDir := filepath.Join(cache, "models--acme--tiny-llama")

	_, err := Resolve(context.Background(), testRepo, testOptions(f, cache))
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("err = %v, want ErrChecksum", err)
	}
	sum := sha256Hex(files["model.safetensors"].data)
	for _, s := range []string{"checksum mismatch", "model.safetensors", sum, "removed"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q: %v", s, err)
		}
	}
	blob := filepath.Join(repoDir, "blobs", sum)
	for _, p := range []string{blob, blob + ".incomplete", filepath.Join(repoDir, "snapshots", testCommit, "model.safetensors")} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s exists after a checksum mismatch (%v)", p, err)
		}
	}
	// The files downloaded before are intact.
	cfg, err := os.ReadFile(filepath.Join(repoDir, "snapshots", testCommit, "config.json"))
	if err != nil || !bytes.Equal(cfg, files["config.json"].data) {
		t.Errorf("config.json damaged by the failed download: %v", err)
	}

	// Once the server is fixed, a new run completes.
	f.mu.Lock()
	delete(f.corrupt, "model.safetensors")
	f.mu.Unlock()
	if _, err := Resolve(context.Background(), testRepo, testOptions(f, cache)); err != nil {
		t.Fatalf("after fix: %v", err)
	}
}

// shardedModel has an index whose shards live at the top level and in a
// sub-folder.
func shardedModel(index string) map[string]fakeFile {
	return map[string]fakeFile{
		"config.json":                           {data: []byte(`{"architectures":["Qwen3ForCausalLM"]}`)},
		"generation_config.json":                {data: []byte(`{"do_sample":true}`)},
		"tokenizer.json":                        {data: []byte(`{"model":{"type":"BPE"}}`)},
		"tokenizer_config.json":                 {data: []byte(`{}`)},
		"model.safetensors.index.json":          {data: []byte(index)},
		"model-00001-of-00002.safetensors":      {data: randomBytes(50_000, 2), lfs: true},
		"part/model-00002-of-00002.safetensors": {data: randomBytes(40_000, 3), lfs: true},
	}
}

func TestShardedModelViaIndex(t *testing.T) {
	f := newFakeHub(t)
	files := shardedModel(`{"metadata":{"total_size":90000},"weight_map":{
		"a.weight":"model-00001-of-00002.safetensors",
		"b.weight":"model-00001-of-00002.safetensors",
		"c.weight":"part/model-00002-of-00002.safetensors"}}`)
	f.addRepo(testRepo, testCommit, files)
	cache := t.TempDir()

	dir, err := Resolve(context.Background(), testRepo, testOptions(f, cache))
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	snap := "models--acme--tiny-llama/snapshots/" + testCommit + "/"
	got := walkTree(t, filepath.Join(cache))
	for name, ff := range files {
		etag := gitBlobSHA1(ff.data)
		if ff.lfs {
			etag = sha256Hex(ff.data)
		}
		up := "../../"
		if strings.Contains(name, "/") {
			up = "../../../"
		}
		if want := snap + name + " -> " + up + "blobs/" + etag; !slices.Contains(got, want) {
			t.Errorf("missing %q in tree %q", want, got)
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(b, ff.data) {
			t.Errorf("%s through the snapshot: %v", name, err)
		}
	}
	// model.safetensors was looked up once (404), then the index used.
	var singleHeads int
	for _, e := range f.requests() {
		if strings.HasSuffix(e.path, "/model.safetensors") {
			singleHeads++
		}
	}
	if singleHeads != 1 {
		t.Errorf("requests for model.safetensors = %d, want 1", singleHeads)
	}
	if !slices.Contains(got, "models--acme--tiny-llama/.no_exist/"+testCommit+"/model.safetensors") {
		t.Errorf("no .no_exist marker for model.safetensors in %q", got)
	}
	// Complete in the cache: offline resolution finds it.
	opts := testOptions(f, cache)
	opts.Offline = true
	if d, err := Resolve(context.Background(), testRepo, opts); err != nil || d != dir {
		t.Fatalf("offline = %q, %v", d, err)
	}
}

func TestMaliciousShardNamesAreRefused(t *testing.T) {
	for _, bad := range []string{
		"../../../evil.safetensors",
		"/etc/evil.safetensors",
		`..\\..\\evil.safetensors`,
		"part/../../../../evil.safetensors",
		"./model.safetensors",
		"part//x.safetensors",
	} {
		t.Run(bad, func(t *testing.T) {
			f := newFakeHub(t)
			idx := `{"weight_map":{"a":"model-00001-of-00002.safetensors","b":"` + bad + `"}}`
			f.addRepo(testRepo, testCommit, shardedModel(idx))
			root := t.TempDir()
			cache := filepath.Join(root, "a", "b", "hub")
			_, err := Resolve(context.Background(), testRepo, testOptions(f, cache))
			if !errors.Is(err, ErrUnsafePath) {
				t.Fatalf("err = %v, want ErrUnsafePath", err)
			}
			if !strings.Contains(err.Error(), "refused file name") || !strings.Contains(err.Error(), "model.safetensors.index.json") {
				t.Errorf("error does not say what was refused: %v", err)
			}
			for _, e := range f.requests() {
				if strings.Contains(e.path, "evil") || strings.Contains(e.path, "model-00001") {
					t.Errorf("requested a shard of a refused index: %+v", e)
				}
			}
			_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err == nil && strings.Contains(d.Name(), "evil") {
					t.Errorf("file written for a refused name: %s", p)
				}
				return nil
			})
		})
	}
}

func TestServerEtagOrCommitThatWouldEscapeIsRefused(t *testing.T) {
	for name, hdr := range map[string][2]string{
		"etag":   {"ETag", `"../../../../evil"`},
		"commit": {"X-Repo-Commit", "../../evil"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Repo-Commit", testCommit)
				w.Header().Set("ETag", `"`+gitBlobSHA1([]byte("{}"))+`"`)
				w.Header().Set(hdr[0], hdr[1])
				w.Header().Set("Content-Length", "2")
				w.WriteHeader(http.StatusOK)
				if r.Method == http.MethodGet {
					w.Write([]byte("{}"))
				}
			}))
			defer srv.Close()
			root := t.TempDir()
			cache := filepath.Join(root, "x", "y", "hub")
			_, err := Resolve(context.Background(), testRepo, Options{CacheDir: cache, Endpoint: srv.URL, HTTPClient: srv.Client()})
			if err == nil {
				t.Fatal("Resolve accepted a dangerous server header")
			}
			_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err == nil && strings.Contains(d.Name(), "evil") {
					t.Errorf("file written for a refused name: %s", p)
				}
				return nil
			})
		})
	}
}

func TestRenamedRepoRelativeRedirectIsFollowed(t *testing.T) {
	f := newFakeHub(t)
	f.addRepo(testRepo, testCommit, singleFileModel())
	f.renamed["oldorg/tiny-llama"] = testRepo
	cache := t.TempDir()
	dir, err := Resolve(context.Background(), "oldorg/tiny-llama", testOptions(f, cache))
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if want := filepath.Join(cache, "models--oldorg--tiny-llama", "snapshots", testCommit); dir != want {
		t.Fatalf("dir = %s, want %s", dir, want)
	}
}

func TestRevisionAsCommitHashDownloadWritesNoRef(t *testing.T) {
	f := newFakeHub(t)
	f.addRepo(testRepo, testCommit, singleFileModel())
	cache := t.TempDir()
	opts := testOptions(f, cache)
	opts.Revision = testCommit
	dir, err := Resolve(context.Background(), testRepo, opts)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if want := filepath.Join(cache, "models--acme--tiny-llama", "snapshots", testCommit); dir != want {
		t.Fatalf("dir = %s, want %s", dir, want)
	}
	// huggingface_hub writes refs/{revision} only for a revision that is
	// not the commit itself.
	if _, err := os.Stat(filepath.Join(cache, "models--acme--tiny-llama", "refs")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("refs/ written for a commit-hash revision: %v", err)
	}
	for _, e := range f.requests() {
		if e.server == "hub" && !strings.Contains(e.path, "/resolve/"+testCommit+"/") {
			t.Errorf("request not pinned to the commit: %+v", e)
		}
	}
}

func TestNetworkUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	endpoint := srv.URL
	srv.Close() // nothing listens there any more
	cache := t.TempDir()
	_, err := Resolve(context.Background(), testRepo, Options{CacheDir: cache, Endpoint: endpoint})
	if !errors.Is(err, ErrNetwork) {
		t.Fatalf("err = %v, want ErrNetwork", err)
	}
	for _, s := range []string{"cannot reach", "HF_HUB_OFFLINE=1", filepath.Join(cache, "models--acme--tiny-llama"), "--random-weights"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q: %v", s, err)
		}
	}
}

// writeHandCache builds, without this package's code, a cache in the
// layout huggingface_hub documents, and returns the snapshot directory.
func writeHandCache(t *testing.T, cache, folder, commit string, refs []string, files map[string]string) string {
	t.Helper()
	repo := filepath.Join(cache, folder)
	snap := filepath.Join(repo, "snapshots", commit)
	for name, content := range files {
		etag := gitBlobSHA1([]byte(content))
		blob := filepath.Join(repo, "blobs", etag)
		must(t, os.MkdirAll(filepath.Dir(blob), 0o755))
		must(t, os.WriteFile(blob, []byte(content), 0o644))
		link := filepath.Join(snap, name)
		must(t, os.MkdirAll(filepath.Dir(link), 0o755))
		must(t, os.Symlink("../../blobs/"+etag, link))
	}
	for _, r := range refs {
		p := filepath.Join(repo, "refs", r)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(commit), 0o644))
	}
	return snap
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// completeFiles is a minimal complete snapshot.
func completeFiles() map[string]string {
	return map[string]string{
		"config.json": "{}", "tokenizer.json": `{"t":1}`, "tokenizer_config.json": `{"c":2}`, "model.safetensors": "weights",
	}
}

func TestHandPreparedCacheResolvesOffline(t *testing.T) {
	cache := t.TempDir()
	snap := writeHandCache(t, cache, "models--acme--tiny-llama", testCommit, []string{"main"}, completeFiles())
	other := "fedcba9876543210fedcba9876543210fedcba98"
	snapOld := writeHandCache(t, cache, "models--acme--tiny-llama", other, nil, completeFiles())
	opts := Options{CacheDir: cache, Offline: true, HTTPClient: failingClient(t)}

	if dir, err := Resolve(context.Background(), testRepo, opts); err != nil || dir != snap {
		t.Fatalf("main: %q, %v; want %q", dir, err, snap)
	}
	opts.Revision = other
	if dir, err := Resolve(context.Background(), testRepo, opts); err != nil || dir != snapOld {
		t.Fatalf("commit revision: %q, %v; want %q", dir, err, snapOld)
	}
	// A complete cached snapshot is used without network even when online.
	opts.Offline = false
	if dir, err := Resolve(context.Background(), testRepo, opts); err != nil || dir != snapOld {
		t.Fatalf("online, cached commit: %q, %v; want %q", dir, err, snapOld)
	}
}

func TestOfflineMissingSaysWhereItLooked(t *testing.T) {
	cache := t.TempDir()
	opts := Options{CacheDir: cache, Offline: true, HTTPClient: failingClient(t)}
	_, err := Resolve(context.Background(), testRepo, opts)
	if !errors.Is(err, ErrNotCached) {
		t.Fatalf("err = %v, want ErrNotCached", err)
	}
	abs, _ := filepath.Abs(testRepo)
	for _, s := range []string{
		abs + ": not a local directory",
		filepath.Join(cache, "models--acme--tiny-llama", "refs", "main") + ": missing",
		"HF_HUB_OFFLINE", "HF_HUB_CACHE", cache, "--random-weights", "network",
	} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q:\n%v", s, err)
		}
	}

	// An incomplete snapshot: the error names the snapshot and what it lacks.
	snap := writeHandCache(t, cache, "models--acme--tiny-llama", testCommit, []string{"main"}, map[string]string{
		"config.json": "{}", "tokenizer.json": "{}", "model.safetensors.index.json": `{"weight_map":{"a":"m-1.safetensors"}}`,
	})
	_, err = Resolve(context.Background(), testRepo, opts)
	if !errors.Is(err, ErrNotCached) {
		t.Fatalf("err = %v, want ErrNotCached", err)
	}
	for _, s := range []string{snap + ": missing tokenizer_config.json, m-1.safetensors", "points to commit " + testCommit} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q:\n%v", s, err)
		}
	}

	// A broken symlink (blob removed) does not count as present.
	must(t, os.Remove(filepath.Join(cache, "models--acme--tiny-llama", "blobs", gitBlobSHA1([]byte("{}")))))
	_, err = Resolve(context.Background(), testRepo, opts)
	if err == nil || !strings.Contains(err.Error(), "missing config.json, tokenizer.json, tokenizer_config.json") {
		t.Errorf("broken links: %v", err)
	}
}

func TestLocalDirectoryAndBadReferences(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Offline: true, HTTPClient: failingClient(t)}
	if got, err := Resolve(context.Background(), dir, opts); err != nil || got != dir {
		t.Fatalf("local dir: %q, %v", got, err)
	}
	file := filepath.Join(dir, "config.json")
	must(t, os.WriteFile(file, []byte("{}"), 0o644))
	if _, err := Resolve(context.Background(), file, opts); !errors.Is(err, ErrBadReference) || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("file: %v", err)
	}
	for _, ref := range []string{"", "./no/such/dir/here", "no-slash", "a/b/c"} {
		if _, err := Resolve(context.Background(), ref, opts); !errors.Is(err, ErrBadReference) {
			t.Errorf("%q: err = %v, want ErrBadReference", ref, err)
		}
	}
	opts.CacheDir = t.TempDir()
	for _, rev := range []string{"../../etc", "/abs", `a\b`} {
		opts.Revision = rev
		if _, err := Resolve(context.Background(), testRepo, opts); !errors.Is(err, ErrBadReference) || !strings.Contains(err.Error(), "bad revision") {
			t.Errorf("revision %q: err = %v", rev, err)
		}
	}
	opts.Revision, opts.CacheDir = "", ""
	if _, err := Resolve(context.Background(), testRepo, opts); !errors.Is(err, ErrBadReference) || !strings.Contains(err.Error(), "HF_HUB_CACHE") {
		t.Errorf("no cache dir: %v", err)
	}
}

func TestIsRepoID(t *testing.T) {
	for s, want := range map[string]bool{
		"meta-llama/Llama-3.2-1B-Instruct": true,
		"Qwen/Qwen3-0.6B":                  true,
		"google/gemma-3-1b-it":             true,
		"org_1/name.v2":                    true,
		"gpt2":                             false,
		"a/b/c":                            false,
		"/abs/path":                        false,
		"./rel":                            false,
		"org/":                             false,
		"org/name--x":                      false,
		"org/na..me":                       false,
		"org/name.git":                     false,
		"org/-name":                        false,
		"org/name with space":              false,
		"org/" + strings.Repeat("x", 100):  false,
	} {
		if got := IsRepoID(s); got != want {
			t.Errorf("IsRepoID(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestOptionsFromEnv(t *testing.T) {
	tokDir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(tokDir, "token"), []byte("hf_fromfile\n"), 0o600))
	cases := []struct {
		name string
		env  map[string]string
		want Options
	}{
		{"defaults", nil, Options{Revision: "main", Endpoint: DefaultEndpoint, CacheDir: "/home/u/.cache/huggingface/hub"}},
		{"xdg", map[string]string{"XDG_CACHE_HOME": "/x"}, Options{Revision: "main", Endpoint: DefaultEndpoint, CacheDir: "/x/huggingface/hub"}},
		{"hf_home and its token file", map[string]string{"HF_HOME": tokDir}, Options{Revision: "main", Endpoint: DefaultEndpoint, CacheDir: filepath.Join(tokDir, "hub"), Token: "hf_fromfile"}},
		{"hf_hub_cache wins", map[string]string{"HF_HOME": "/h", "HF_HUB_CACHE": "~/c"}, Options{Revision: "main", Endpoint: DefaultEndpoint, CacheDir: "/home/u/c"}},
		{"HF_TOKEN wins over the file", map[string]string{"HF_HOME": tokDir, "HF_TOKEN": " hf_env "}, Options{Revision: "main", Endpoint: DefaultEndpoint, CacheDir: filepath.Join(tokDir, "hub"), Token: "hf_env"}},
		{"token path", map[string]string{"HF_TOKEN_PATH": filepath.Join(tokDir, "token")}, Options{Revision: "main", Endpoint: DefaultEndpoint, CacheDir: "/home/u/.cache/huggingface/hub", Token: "hf_fromfile"}},
		{"endpoint and offline", map[string]string{"HF_ENDPOINT": "https://mirror.example/", "HF_HUB_OFFLINE": "1"}, Options{Revision: "main", Endpoint: "https://mirror.example", CacheDir: "/home/u/.cache/huggingface/hub", Offline: true}},
		{"offline words", map[string]string{"HF_HUB_OFFLINE": "True"}, Options{Revision: "main", Endpoint: DefaultEndpoint, CacheDir: "/home/u/.cache/huggingface/hub", Offline: true}},
		{"offline 0", map[string]string{"HF_HUB_OFFLINE": "0"}, Options{Revision: "main", Endpoint: DefaultEndpoint, CacheDir: "/home/u/.cache/huggingface/hub"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := optionsFromEnv(func(k string) string { return c.env[k] }, "/home/u")
			if got != c.want {
				t.Errorf("got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for a bar's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until w holds want, or fails after 5 s.
func waitFor(t *testing.T, w *syncBuffer, want string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(w.String(), want); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in %q", want, w.String())
		}
	}
}

// A resumed download's bar, on a terminal of 100 columns, against figures
// worked out by hand: 1 MiB on disk, then 4 MiB more in 2 s = 2 MiB/s
// (the bytes on disk are not speed); 5 MiB left = 2.5 s.
func TestDownloadBar(t *testing.T) {
	var buf syncBuffer
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := newDownloadBar(tty.NewConsole(&buf, 100), "model.safetensors", 10<<20, 1<<20, start)
	waitFor(t, &buf, "1.0 MiB / 10.0 MiB")
	b.update(5<<20, start.Add(2*time.Second))
	waitFor(t, &buf, "5.0 MiB / 10.0 MiB  2.0 MiB/s  ETA 00:02\n")
	b.update(10<<20, start.Add(5*time.Second)) // 5 MiB in 3 s moves the average a little
	b.finish(true)
	out := buf.String()
	if !regexp.MustCompile(`model\.safetensors \[=+\] 10\.0 MiB / 10\.0 MiB  2\.0 MiB/s  ETA done\n$`).MatchString(out) {
		t.Errorf("final frame: %q", out)
	}
	for _, l := range strings.Split(regexp.MustCompile(`\x1b\[[0-9]*[A-Za-z]`).ReplaceAllString(out, ""), "\n") {
		if n := utf8.RuneCountInString(l); n > 100 {
			t.Errorf("a line of %d columns on a terminal of 100: %q", n, l)
		}
	}

	// Of unknown size: the bytes so far; a failed download keeps its last frame.
	buf = syncBuffer{}
	b = newDownloadBar(tty.NewConsole(&buf, 100), "config.json", -1, 0, start)
	b.update(300, start.Add(time.Second))
	b.finish(false)
	if out := buf.String(); !strings.Contains(out, "config.json") || !strings.Contains(out, "config.json  300.0 b  300.0 b/s\n") || strings.Contains(out, "done") {
		t.Errorf("unknown size, failed: %q", out)
	}

	// A non-terminal writer gets no progress.
	if tty.IsTerminal(&buf) {
		t.Error("a buffer reported as a terminal")
	}
	devnull, err := os.Open(os.DevNull)
	must(t, err)
	defer devnull.Close()
	if tty.IsTerminal(devnull) {
		t.Error("/dev/null reported as a terminal")
	}
}

func TestConcurrentResolvesShareTheCache(t *testing.T) {
	f := newFakeHub(t)
	files := singleFileModel()
	f.addRepo(testRepo, testCommit, files)
	cache := t.TempDir()
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			dir, err := Resolve(context.Background(), testRepo, testOptions(f, cache))
			if err == nil {
				var b []byte
				b, err = os.ReadFile(filepath.Join(dir, "model.safetensors"))
				if err == nil && !bytes.Equal(b, files["model.safetensors"].data) {
					err = errors.New("model.safetensors differs")
				}
			}
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	for _, e := range walkTree(t, cache) {
		if strings.Contains(e, ".incomplete") || strings.Contains(e, ".tmp") {
			t.Errorf("leftover %s", e)
		}
	}
}

func TestCDNRefusalIsNotReportedAsGated(t *testing.T) {
	f := newFakeHub(t)
	f.addRepo(testRepo, testCommit, singleFileModel())
	f.deny["model.safetensors"] = http.StatusForbidden
	cache := t.TempDir()
	opts := testOptions(f, cache)
	opts.Token = testToken
	_, err := Resolve(context.Background(), testRepo, opts)
	if !errors.Is(err, ErrServer) || errors.Is(err, ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrServer", err)
	}
	for _, s := range []string{"download server " + f.cdn.URL, "HTTP 403", "model.safetensors"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q: %v", s, err)
		}
	}
	if strings.Contains(err.Error(), "secret-signature") || strings.Contains(err.Error(), testToken) {
		t.Errorf("error shows a credential: %v", err)
	}
}

func TestServerErrorsAreRetriedThenReported(t *testing.T) {
	f := newFakeHub(t)
	f.addRepo(testRepo, testCommit, singleFileModel())
	f.deny["model.safetensors"] = http.StatusServiceUnavailable
	cache := t.TempDir()
	d := newDownloader(testOptions(f, cache), newRepoCache(cache, testRepo))
	d.backoff = time.Millisecond
	_, err := d.run(context.Background())
	if !errors.Is(err, ErrServer) || !strings.Contains(err.Error(), "HTTP 503") {
		t.Fatalf("err = %v, want ErrServer with HTTP 503", err)
	}
	var gets int
	for _, e := range f.requests() {
		if e.server == "cdn" {
			gets++
		}
	}
	if gets != maxAttempts {
		t.Errorf("CDN attempts = %d, want %d", gets, maxAttempts)
	}
}

func TestSkipWeightsResolvesConfigAndTokenizerOnly(t *testing.T) {
	// Offline: a hand-made cache without weights resolves with SkipWeights
	// and is refused without it.
	cache := t.TempDir()
	snap := writeHandCache(t, cache, "models--acme--tiny-llama", testCommit, []string{"main"}, map[string]string{
		"config.json": "{}", "tokenizer.json": `{"t":1}`, "tokenizer_config.json": `{"c":2}`,
	})
	opts := Options{CacheDir: cache, Offline: true, HTTPClient: failingClient(t)}
	if _, err := Resolve(context.Background(), testRepo, opts); !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), "missing model.safetensors (or model.safetensors.index.json)") {
		t.Fatalf("without SkipWeights: %v", err)
	}
	opts.SkipWeights = true
	if dir, err := Resolve(context.Background(), testRepo, opts); err != nil || dir != snap {
		t.Fatalf("SkipWeights offline: %q, %v; want %q", dir, err, snap)
	}

	// Online: no weight file is requested.
	f := newFakeHub(t)
	f.addRepo(testRepo, testCommit, singleFileModel())
	o := testOptions(f, t.TempDir())
	o.SkipWeights = true
	dir, err := Resolve(context.Background(), testRepo, o)
	if err != nil {
		t.Fatalf("SkipWeights download: %v", err)
	}
	for _, e := range f.requests() {
		if strings.Contains(e.path, "safetensors") || e.server == "cdn" {
			t.Errorf("weights requested with SkipWeights: %+v", e)
		}
	}
	if !isFile(filepath.Join(dir, "tokenizer.json")) || isFile(filepath.Join(dir, "model.safetensors")) {
		t.Errorf("snapshot %s: want the tokenizer and no weights", dir)
	}
}

func TestStalledDownloadIsAbandonedAndResumed(t *testing.T) {
	f := newFakeHub(t)
	files := singleFileModel()
	f.addRepo(testRepo, testCommit, files)
	const sent = 70_000
	f.block["model.safetensors"] = sent // then sends nothing until the client leaves
	cache := t.TempDir()
	opts := testOptions(f, cache)
	opts.Revision = DefaultRevision
	d := newDownloader(opts, newRepoCache(cache, testRepo))
	d.stall = time.Second
	d.backoff = time.Millisecond
	done := make(chan struct{})
	go func() { <-f.blocked; close(done) }()
	dir, err := d.run(context.Background())
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	<-done
	var ranges []string
	for _, e := range f.requests() {
		if e.server == "cdn" {
			ranges = append(ranges, e.rng)
		}
	}
	// The resume starts where the partial file ends: after all 70000 bytes,
	// or, should the client have been starved of CPU for the whole stall
	// time while bytes were still in flight, after fewer (never from 0).
	var from int
	if len(ranges) != 2 || ranges[0] != "" {
		t.Fatalf("CDN Range headers = %q, want a whole request then one resumed request", ranges)
	}
	if _, err := fmt.Sscanf(ranges[1], "bytes=%d-", &from); err != nil || from <= 0 || from > sent {
		t.Fatalf("resumed with Range %q, want bytes=N- with 0 < N <= %d (normally %d)", ranges[1], sent, sent)
	}
	b, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if err != nil || !bytes.Equal(b, files["model.safetensors"].data) {
		t.Fatalf("resumed file differs (err %v)", err)
	}
}
