package hub

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The fake hub below follows the behaviour of huggingface.co's resolve
// endpoint as huggingface_hub relies on it:
//   - HEAD/GET {endpoint}/{repo}/resolve/{revision}/{file}
//   - every answer carries X-Repo-Commit
//   - a regular (git) file: 200, ETag = "<git blob sha1>", Content-Length
//   - an LFS file: 302 to a CDN URL, X-Linked-Etag = "<sha256>",
//     X-Linked-Size, ETag of the pointer
//   - a renamed repository: 307 with a relative Location
//   - errors: X-Error-Code RepoNotFound / RevisionNotFound / EntryNotFound
//     (404), GatedRepo (401 without a token, 403 with a refused one)
//   - the CDN honours "Range: bytes=N-" with 206 and Content-Range.

// fakeFile is one file of a fake repository.
type fakeFile struct {
	data []byte
	lfs  bool
}

// fakeRepo is one repository at one commit.
type fakeRepo struct {
	commit string
	files  map[string]fakeFile
	token  string // if set, the repo is gated and needs this token
}

// logEntry records one request the fake servers saw.
type logEntry struct {
	server string // "hub" or "cdn"
	method string
	path   string
	auth   string // Authorization header
	rng    string // Range header
}

// fakeHub is a hub server plus a separate CDN server.
type fakeHub struct {
	t   *testing.T
	hub *httptest.Server
	cdn *httptest.Server

	mu       sync.Mutex
	repos    map[string]*fakeRepo
	renamed  map[string]string // old id -> new id
	log      []logEntry
	cutAfter map[string]int  // file name -> bytes sent before the first GET is cut
	corrupt  map[string]bool // file name -> serve a damaged body
	deny     map[string]int  // file name -> HTTP status the CDN answers
	block    map[string]int  // file name -> bytes sent before waiting for the client to go away
	blocked  chan struct{}   // signalled when a blocked GET has sent its bytes
	blobs    map[string]fakeFile
	names    map[string]string // sha256 -> file name, for cut/corrupt rules
}

// gitBlobSHA1 is the git object id of a file: sha1("blob <len>\0" + data),
// the ETag the hub gives regular files.
func gitBlobSHA1(data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

func sha256Hex(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func newFakeHub(t *testing.T) *fakeHub {
	t.Helper()
	f := &fakeHub{
		t: t, repos: map[string]*fakeRepo{}, renamed: map[string]string{},
		cutAfter: map[string]int{}, corrupt: map[string]bool{}, deny: map[string]int{}, block: map[string]int{},
		blocked: make(chan struct{}, 1), blobs: map[string]fakeFile{}, names: map[string]string{},
	}
	f.hub = httptest.NewServer(http.HandlerFunc(f.serveHub))
	f.cdn = httptest.NewServer(http.HandlerFunc(f.serveCDN))
	t.Cleanup(func() {
		f.hub.Close()
		f.cdn.Close()
	})
	return f
}

// addRepo registers a repository and returns it.
func (f *fakeHub) addRepo(id, commit string, files map[string]fakeFile) *fakeRepo {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := &fakeRepo{commit: commit, files: files}
	f.repos[id] = r
	for name, ff := range files {
		if ff.lfs {
			f.blobs[sha256Hex(ff.data)] = ff
			f.names[sha256Hex(ff.data)] = name
		}
	}
	return r
}

// requests returns a copy of the request log.
func (f *fakeHub) requests() []logEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]logEntry(nil), f.log...)
}

func (f *fakeHub) record(server string, r *http.Request) {
	f.mu.Lock()
	f.log = append(f.log, logEntry{server, r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Range")})
	f.mu.Unlock()
}

func (f *fakeHub) serveHub(w http.ResponseWriter, r *http.Request) {
	f.record("hub", r)
	// /{org}/{name}/resolve/{revision}/{file...}; the revision is one
	// escaped path segment.
	parts := strings.SplitN(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/", 5)
	if len(parts) != 5 || parts[2] != "resolve" {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	id := parts[0] + "/" + parts[1]
	rev, err1 := url.PathUnescape(parts[3])
	file, err2 := url.PathUnescape(parts[4])
	if err1 != nil || err2 != nil {
		http.Error(w, "bad escape", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	repo := f.repos[id]
	newID, moved := f.renamed[id]
	f.mu.Unlock()
	if moved {
		w.Header().Set("Location", "/"+newID+"/resolve/"+parts[3]+"/"+parts[4])
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	if repo == nil {
		w.Header().Set("X-Error-Code", "RepoNotFound")
		w.Header().Set("X-Error-Message", "Repository not found")
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if repo.token != "" {
		auth := r.Header.Get("Authorization")
		if auth == "" {
			w.Header().Set("X-Error-Code", "GatedRepo")
			w.Header().Set("X-Error-Message", "Access to model "+id+" is restricted.")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if auth != "Bearer "+repo.token {
			w.Header().Set("X-Error-Code", "GatedRepo")
			w.Header().Set("X-Error-Message", "Access to model "+id+" is restricted and you are not in the authorized list.")
			w.WriteHeader(http.StatusForbidden)
			return
		}
	}
	if rev != "main" && rev != repo.commit {
		w.Header().Set("X-Error-Code", "RevisionNotFound")
		w.Header().Set("X-Error-Message", "Invalid rev id: "+rev)
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.Header().Set("X-Repo-Commit", repo.commit)
	ff, ok := repo.files[file]
	if !ok {
		w.Header().Set("X-Error-Code", "EntryNotFound")
		w.Header().Set("X-Error-Message", "Entry not found")
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if ff.lfs {
		sum := sha256Hex(ff.data)
		w.Header().Set("ETag", `"`+gitBlobSHA1([]byte("version https://git-lfs.github.com/spec/v1\noid sha256:"+sum+"\n"))+`"`)
		w.Header().Set("X-Linked-Etag", `"`+sum+`"`)
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(ff.data)))
		w.Header().Set("Location", f.cdn.URL+"/repos/ab/cd/"+sum+"?X-Amz-Signature=secret-signature")
		w.WriteHeader(http.StatusFound)
		return
	}
	w.Header().Set("ETag", `"`+gitBlobSHA1(ff.data)+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(ff.data)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(ff.data)
	}
}

func (f *fakeHub) serveCDN(w http.ResponseWriter, r *http.Request) {
	f.record("cdn", r)
	sum := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	if r.URL.Query().Get("X-Amz-Signature") != "secret-signature" {
		http.Error(w, "bad signature", http.StatusForbidden)
		return
	}
	f.mu.Lock()
	ff, ok := f.blobs[sum]
	name := f.names[sum]
	cut, doCut := f.cutAfter[name]
	delete(f.cutAfter, name)
	blockAt, doBlock := f.block[name]
	delete(f.block, name)
	damage := f.corrupt[name]
	deny := f.deny[name]
	f.mu.Unlock()
	if !ok {
		http.Error(w, "no such blob", http.StatusNotFound)
		return
	}
	if deny != 0 {
		http.Error(w, "AccessDenied", deny)
		return
	}
	data := ff.data
	if damage {
		data = append([]byte(nil), data...)
		data[len(data)/2] ^= 0xff
	}
	start := 0
	if rg := r.Header.Get("Range"); rg != "" {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"))
		if err != nil || n < 0 || n >= len(data) {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", len(data)))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		start = n
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", n, len(data)-1, len(data)))
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)-start))
	if start > 0 {
		w.WriteHeader(http.StatusPartialContent)
	} else {
		w.WriteHeader(http.StatusOK)
	}
	body := data[start:]
	switch {
	case doCut:
		w.Write(body[:cut])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // drop the connection mid-body
	case doBlock:
		w.Write(body[:blockAt])
		w.(http.Flusher).Flush()
		f.blocked <- struct{}{}
		<-r.Context().Done()
		return
	}
	w.Write(body)
}
