package hub

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// FuzzParseIndexShards: the hub's reading of a safetensors index never
// panics, and every shard it returns is a safe relative path.
func FuzzParseIndexShards(f *testing.F) {
	for _, s := range []string{
		`{"metadata":{"total_size":12},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}`,
		`{"weight_map":{"a":"../../../../etc/passwd"}}`, `{"weight_map":{"a":"sub/x.safetensors"}}`,
		`{"weight_map":{"a":"/abs"}}`, `{"weight_map":{"a":"a\\b"}}`, `{"weight_map":{}}`, `{`, `[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		shards, err := parseIndexShards(b, "index")
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		for _, s := range shards {
			if checkRelPath(s) != nil || filepath.IsAbs(s) || slices.Contains(strings.Split(s, "/"), "..") {
				t.Fatalf("unsafe shard %q accepted", s)
			}
		}
	})
}

// hubStatuses are the statuses the fuzzed hub answers with.
var hubStatuses = []int{200, 206, 302, 307, 401, 403, 404, 416, 429, 500, 503}

// FuzzHubResponses answers every request of a download through a loopback
// server with fuzzed headers (status, X-Repo-Commit, ETag, X-Linked-Size,
// Content-Range, X-Error-Code, Location) and body: the download must end,
// with an error or with a snapshot inside the cache whose config.json is
// the body served, and nothing may panic.
func FuzzHubResponses(f *testing.F) {
	commit := strings.Repeat("a", 40)
	body := []byte(`{"architectures":["LlamaForCausalLM"]}`)
	f.Add(uint8(0), commit, `"`+gitBlobSHA1(body)+`"`, "", "", "", "", body)
	f.Add(uint8(0), commit, `"`+gitBlobSHA1(body)+`"`, "5", "", "", "", body)
	f.Add(uint8(1), commit, `"`+gitBlobSHA1(body)+`"`, "", "bytes 3-40/41", "", "", body)
	f.Add(uint8(2), commit, `"abc"`, "", "", "", "/org/name/resolve/main/config.json", body)
	f.Add(uint8(6), "", "", "", "", "EntryNotFound", "", []byte("not found"))
	f.Add(uint8(4), commit, "", "", "", "GatedRepo", "", []byte(`{"error":"gated"}`))
	f.Add(uint8(9), "xyz", "W/\"00\"", "-1", "bytes */9", "", "", []byte{})

	var mu sync.Mutex
	var cur struct {
		status                                  int
		commit, etag, size, rng, code, location string
		body                                    []byte
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		c := cur
		mu.Unlock()
		h := w.Header()
		set := func(k, v string) {
			if v != "" {
				h.Set(k, v)
			}
		}
		set("X-Repo-Commit", c.commit)
		set("ETag", c.etag)
		set("X-Linked-Size", c.size)
		set("Content-Range", c.rng)
		set("X-Error-Code", c.code)
		set("Location", c.location)
		w.WriteHeader(c.status)
		if r.Method == http.MethodGet {
			w.Write(c.body)
		}
	}))
	f.Cleanup(srv.Close)
	client := &http.Client{Timeout: 5 * time.Second}

	f.Fuzz(func(t *testing.T, status uint8, commit, etag, size, rng, code, location string, body []byte) {
		mu.Lock()
		cur.status = hubStatuses[int(status)%len(hubStatuses)]
		cur.commit, cur.etag, cur.size, cur.rng, cur.code, cur.location, cur.body = commit, etag, size, rng, code, location, body
		mu.Unlock()
		cache := t.TempDir()
		opts := Options{Revision: DefaultRevision, Endpoint: srv.URL, CacheDir: cache, SkipWeights: true, HTTPClient: client}
		d := newDownloader(opts, newRepoCache(cache, "org/name"))
		d.backoff, d.stall = 0, 2*time.Second
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		snap, err := d.run(ctx)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			if ctx.Err() != nil {
				t.Fatalf("the download did not end: %v", err)
			}
			return
		}
		rel, rerr := filepath.Rel(cache, snap)
		if rerr != nil || strings.HasPrefix(rel, "..") {
			t.Fatalf("snapshot %s outside the cache %s", snap, cache)
		}
		got, rerr := os.ReadFile(filepath.Join(snap, "config.json"))
		if rerr != nil || string(got) != string(body) {
			t.Fatalf("config.json %q (%v), served %q", got, rerr, body)
		}
	})
}
