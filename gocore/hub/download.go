package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/genbench/genbench/gocore/tty"
	"hash"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// maxAttempts bounds the GET attempts for one file; each resumes where
// the previous one stopped.
const maxAttempts = 5

// maxRedirects bounds the relative redirects followed by a HEAD request.
const maxRedirects = 10

// sha256Re matches the sha256 etag of an LFS file.
var sha256Re = regexp.MustCompile(`^[0-9a-f]{64}$`)

// downloader fetches the model files of one repository into the cache.
type downloader struct {
	opts     Options
	repo     *repoCache
	client   *http.Client // GET: follows redirects
	head     *http.Client // HEAD: returns redirects to the caller
	ownedTr  *http.Transport
	progress io.Writer // nil unless opts.Progress is a terminal
	backoff  time.Duration
	stall    time.Duration // an attempt that receives nothing for this long is retried
	commit   string        // learned from the first response, or the revision itself
}

// fileMeta is what a HEAD request on a resolve URL tells about a file.
type fileMeta struct {
	commit   string // X-Repo-Commit
	etag     string // X-Linked-Etag, else ETag, normalised
	lfs      bool   // X-Linked-Etag was present
	size     int64  // X-Linked-Size, else Content-Length; -1 if unknown
	location string // where to GET the content
}

func newDownloader(opts Options, repo *repoCache) *downloader {
	d := &downloader{opts: opts, repo: repo, backoff: 200 * time.Millisecond, stall: 60 * time.Second}
	base := opts.HTTPClient
	if base == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.ResponseHeaderTimeout = 60 * time.Second
		d.ownedTr = tr
		base = &http.Client{Transport: tr}
	}
	d.client = base
	h := *base
	h.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	d.head = &h
	if tty.IsTerminal(opts.Progress) {
		d.progress = opts.Progress
	}
	if isCommit(opts.Revision) {
		d.commit = opts.Revision
	}
	return d
}

// run downloads what is missing and returns the snapshot directory.
func (d *downloader) run(ctx context.Context) (string, error) {
	if d.ownedTr != nil {
		defer d.ownedTr.CloseIdleConnections()
	}
	for _, f := range []string{fileConfig, fileTokenizer, fileTokenizerConfig} {
		if _, err := d.fetch(ctx, f, false); err != nil {
			return "", err
		}
	}
	if _, err := d.fetch(ctx, fileGenerationCfg, true); err != nil {
		return "", err
	}
	if err := d.fetchWeights(ctx); err != nil {
		return "", err
	}
	if d.opts.Revision != d.commit {
		if err := writeFileAtomic(d.repo.refPath(d.opts.Revision), []byte(d.commit)); err != nil {
			return "", fmt.Errorf("record revision %s of %s: %w", d.opts.Revision, d.repo.repoID, err)
		}
	}
	snap := d.repo.snapshotDir(d.commit)
	if missing := missingFiles(snap, d.opts.SkipWeights); len(missing) > 0 {
		return "", newError(ErrServer, fmt.Sprintf("snapshot %s is still missing %s after download", snap, strings.Join(missing, ", ")))
	}
	return snap, nil
}

// fetchWeights fetches model.safetensors, or the index and its shards;
// nothing when the options skip the weights.
func (d *downloader) fetchWeights(ctx context.Context) error {
	if d.opts.SkipWeights {
		return nil
	}
	single, err := d.fetch(ctx, fileWeights, true)
	if err != nil {
		return err
	}
	if !single {
		hasIndex, err := d.fetch(ctx, fileWeightsIndex, true)
		if err != nil {
			return err
		}
		if !hasIndex {
			return newError(ErrNotFound, fmt.Sprintf("model %s (revision %s) has neither %s nor %s: genbench needs safetensors weights (check the id and revision, or use --random-weights for synthetic weights)",
				d.repo.repoID, d.opts.Revision, fileWeights, fileWeightsIndex))
		}
		shards, err := readIndexShards(d.repo.pointerPath(d.commit, fileWeightsIndex))
		if err != nil {
			return fmt.Errorf("model %s: %w", d.repo.repoID, err)
		}
		for _, s := range shards {
			if _, err := d.fetch(ctx, s, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// fetch makes file present in the snapshot. It reports false, with no
// error, when optional is set and the repository has no such file.
func (d *downloader) fetch(ctx context.Context, file string, optional bool) (bool, error) {
	if err := checkRelPath(file); err != nil {
		return false, err
	}
	if d.commit != "" {
		if isFile(d.repo.pointerPath(d.commit, file)) {
			return true, nil
		}
		if optional && isFile(d.repo.noExistPath(d.commit, file)) {
			return false, nil
		}
	}
	meta, err := d.headFile(ctx, file)
	if err != nil {
		var st *statusError
		if optional && errors.As(err, &st) && st.status == http.StatusNotFound && st.code != "RepoNotFound" && st.code != "RevisionNotFound" {
			commit := d.commit
			if commit == "" {
				commit = st.commit
			}
			if commit != "" && d.commit == "" {
				d.commit = commit
			}
			if commit != "" {
				// Remember the absence as huggingface_hub does; failure to
				// write the marker only costs a request next time.
				_ = writeFileAtomic(d.repo.noExistPath(commit, file), nil)
			}
			return false, nil
		}
		return false, err
	}
	if d.commit == "" {
		d.commit = meta.commit
	} else if meta.commit != d.commit {
		return false, newError(ErrServer, fmt.Sprintf("hub answered %s of %s with commit %s, expected %s", file, d.repo.repoID, meta.commit, d.commit))
	}
	pointer := d.repo.pointerPath(d.commit, file)
	if isFile(pointer) {
		return true, nil
	}
	blob := d.repo.blobPath(meta.etag)
	if fi, err := os.Stat(blob); err != nil || (meta.size >= 0 && fi.Size() != meta.size) {
		if err := d.downloadBlob(ctx, file, meta); err != nil {
			return false, err
		}
	}
	if err := linkPointer(blob, pointer); err != nil {
		return false, fmt.Errorf("link %s into snapshot %s: %w", file, d.repo.snapshotDir(d.commit), err)
	}
	return true, nil
}

// resolveURL is {endpoint}/{repo}/resolve/{revision}/{file}, each part
// escaped as huggingface_hub does.
func (d *downloader) resolveURL(file string) string {
	rev := d.commit
	if rev == "" {
		rev = d.opts.Revision
	}
	parts := strings.Split(file, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return d.opts.Endpoint + "/" + d.repo.repoID + "/resolve/" + url.PathEscape(rev) + "/" + strings.Join(parts, "/")
}

// newRequest builds a request with the headers huggingface_hub sends; the
// token goes only to the endpoint's own host.
func (d *downloader) newRequest(ctx context.Context, method, rawURL string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("build %s request for %s: %w", method, redactURL(rawURL), err)
	}
	req.Header.Set("User-Agent", "genbench; hf_hub-compatible")
	req.Header.Set("Accept-Encoding", "identity")
	if d.opts.Token != "" && sameHost(rawURL, d.opts.Endpoint) {
		req.Header.Set("Authorization", "Bearer "+d.opts.Token)
	}
	return req, nil
}

// headFile reads the metadata of file, following relative redirects (a
// renamed repository) but not absolute ones (the CDN), whose Location is
// where the content is fetched from.
func (d *downloader) headFile(ctx context.Context, file string) (*fileMeta, error) {
	u := d.resolveURL(file)
	for i := 0; ; i++ {
		req, err := d.newRequest(ctx, http.MethodHead, u)
		if err != nil {
			return nil, err
		}
		resp, err := d.head.Do(req)
		if err != nil {
			return nil, d.transportError(ctx, file, err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
			next, err := req.URL.Parse(loc)
			if err != nil {
				return nil, newError(ErrServer, fmt.Sprintf("hub redirected %s of %s to an unparsable location: %v", file, d.repo.repoID, err))
			}
			if isRelativeLocation(loc) {
				if i >= maxRedirects {
					return nil, newError(ErrServer, fmt.Sprintf("too many redirects resolving %s of %s", file, d.repo.repoID))
				}
				u = next.String()
				continue
			}
			return d.metaFrom(resp, file, next.String())
		}
		if resp.StatusCode != http.StatusOK {
			return nil, d.statusErr(resp, file)
		}
		return d.metaFrom(resp, file, u)
	}
}

// isRelativeLocation reports whether a Location header stays on the
// same host (no scheme, no authority).
func isRelativeLocation(loc string) bool {
	u, err := url.Parse(loc)
	return err == nil && u.Scheme == "" && u.Host == "" && !strings.HasPrefix(loc, "//")
}

// metaFrom extracts and validates the file metadata from a HEAD response.
func (d *downloader) metaFrom(resp *http.Response, file, location string) (*fileMeta, error) {
	m := &fileMeta{location: location, size: -1}
	m.commit = strings.TrimSpace(resp.Header.Get("X-Repo-Commit"))
	if !isCommit(m.commit) {
		return nil, newError(ErrServer, fmt.Sprintf("hub response for %s of %s has no valid X-Repo-Commit header (got %q): is %s a Hugging Face hub endpoint?", file, d.repo.repoID, truncate(m.commit, 80), d.opts.Endpoint))
	}
	if le := resp.Header.Get("X-Linked-Etag"); le != "" {
		m.etag, m.lfs = normalizeEtag(le), true
	} else {
		m.etag = normalizeEtag(resp.Header.Get("ETag"))
	}
	if !etagRe.MatchString(m.etag) {
		return nil, newError(ErrUnsafePath, fmt.Sprintf("hub response for %s of %s has an unusable etag %q (expected a hex digest)", file, d.repo.repoID, truncate(m.etag, 80)))
	}
	if s := resp.Header.Get("X-Linked-Size"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return nil, newError(ErrServer, fmt.Sprintf("hub response for %s of %s has a bad X-Linked-Size %q", file, d.repo.repoID, truncate(s, 40)))
		}
		m.size = n
	} else if resp.ContentLength >= 0 {
		m.size = resp.ContentLength
	}
	return m, nil
}

// downloadBlob fetches meta's content into blobs/{etag}: written to
// blobs/{etag}.incomplete (resumed with a Range request if it exists),
// checked for size and, for LFS files, SHA-256, then renamed into place.
func (d *downloader) downloadBlob(ctx context.Context, file string, meta *fileMeta) error {
	blob := d.repo.blobPath(meta.etag)
	if err := os.MkdirAll(d.repo.blobsDir(), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", d.repo.blobsDir(), err)
	}
	unlock, err := lockFile(ctx, d.repo.lockPath(meta.etag))
	if err != nil {
		return fmt.Errorf("lock download of %s: %w", file, err)
	}
	defer unlock()
	if fi, err := os.Stat(blob); err == nil && (meta.size < 0 || fi.Size() == meta.size) {
		return nil // another process finished it while we waited
	}

	incomplete := blob + ".incomplete"
	f, err := os.OpenFile(incomplete, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open %s: %w", incomplete, err)
	}
	closed := false
	defer func() {
		if !closed {
			f.Close()
		}
	}()

	var h hash.Hash
	if meta.lfs && sha256Re.MatchString(meta.etag) {
		h = sha256.New()
	}
	w := &blobWriter{f: f, h: h}
	if err := w.resume(); err != nil {
		return fmt.Errorf("resume %s: %w", incomplete, err)
	}

	var bar *downloadBar
	received := false // every byte is in
	if d.progress != nil {
		bar = newDownloadBar(tty.NewConsole(d.progress, 0), file, meta.size, w.n, time.Now())
		defer func() { bar.finish(received) }()
	}
	var lastErr error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("download %s of %s: %w (the partial file %s is kept and resumed next time)", file, d.repo.repoID, ctx.Err(), incomplete)
			case <-time.After(d.backoff << (attempt - 1)):
			}
		}
		if meta.size >= 0 && w.n > meta.size {
			if err := w.reset(); err != nil {
				return fmt.Errorf("truncate %s: %w", incomplete, err)
			}
		}
		if meta.size >= 0 && w.n == meta.size {
			lastErr = nil
			break
		}
		var retry bool
		retry, lastErr = d.getInto(ctx, file, meta, w, bar)
		if lastErr == nil {
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("download %s of %s: %w (the partial file %s is kept and resumed next time)", file, d.repo.repoID, ctx.Err(), incomplete)
		}
		if !retry {
			return lastErr
		}
	}
	received = lastErr == nil && (meta.size < 0 || w.n == meta.size)
	if lastErr != nil {
		return fmt.Errorf("download %s of %s failed after %d attempts (the partial file %s is kept and resumed next time): %w", file, d.repo.repoID, maxAttempts, incomplete, lastErr)
	}

	if meta.size >= 0 && w.n != meta.size {
		f.Close()
		closed = true
		os.Remove(incomplete)
		return newError(ErrChecksum, fmt.Sprintf("download of %s of %s has %d bytes, expected %d: the partial file was removed, nothing else was changed; run again to retry", file, d.repo.repoID, w.n, meta.size))
	}
	if h != nil {
		if got := hex.EncodeToString(h.Sum(nil)); got != meta.etag {
			f.Close()
			closed = true
			os.Remove(incomplete)
			return newError(ErrChecksum, fmt.Sprintf("checksum mismatch for %s of %s: expected sha256 %s, got %s; the downloaded file was removed, nothing else was changed; run again to retry", file, d.repo.repoID, meta.etag, got))
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", incomplete, err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", incomplete, err)
	}
	if err := os.Rename(incomplete, blob); err != nil {
		return fmt.Errorf("move %s into place: %w", incomplete, err)
	}
	syncDir(d.repo.blobsDir())
	return nil
}

// getInto issues one GET for the rest of the content and appends it to w.
// retry says whether a failure is worth another attempt.
func (d *downloader) getInto(ctx context.Context, file string, meta *fileMeta, w *blobWriter, bar *downloadBar) (retry bool, err error) {
	// A stalled connection is abandoned (and the download resumed) after
	// d.stall without data.
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	stalled := time.AfterFunc(d.stall, cancel)
	defer stalled.Stop()
	stallErr := func() error {
		return newError(ErrNetwork, fmt.Sprintf("no data for %s of %s for %v after %d bytes", file, d.repo.repoID, d.stall, w.n))
	}

	req, err := d.newRequest(actx, http.MethodGet, meta.location)
	if err != nil {
		return false, err
	}
	if w.n > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", w.n))
	}
	resp, err := d.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if actx.Err() != nil {
			return true, stallErr()
		}
		return true, d.transportError(ctx, file, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		if w.n > 0 { // the server ignored the range: start over
			if err := w.reset(); err != nil {
				return false, fmt.Errorf("truncate partial download of %s: %w", file, err)
			}
		}
	case http.StatusPartialContent:
		start, ok := contentRangeStart(resp.Header.Get("Content-Range"))
		if !ok || start != w.n {
			// Not what was asked for: start again from zero.
			if err := w.reset(); err != nil {
				return false, fmt.Errorf("truncate partial download of %s: %w", file, err)
			}
			return true, newError(ErrServer, fmt.Sprintf("server answered the range request for %s with Content-Range %q", file, truncate(resp.Header.Get("Content-Range"), 80)))
		}
	case http.StatusRequestedRangeNotSatisfiable:
		if err := w.reset(); err != nil {
			return false, fmt.Errorf("truncate partial download of %s: %w", file, err)
		}
		return true, newError(ErrServer, fmt.Sprintf("server refused to resume %s (HTTP 416)", file))
	default:
		retry := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
		if !sameHost(resp.Request.URL.String(), d.opts.Endpoint) {
			// The content server (CDN) is not where access is granted:
			// its refusals are not about tokens or licences.
			return retry, newError(ErrServer, fmt.Sprintf("the download server %s answered HTTP %d for %s of model %s; run again to retry (the partial file is kept)",
				hostOf(resp.Request.URL.String()), resp.StatusCode, file, d.repo.repoID))
		}
		return retry, d.statusErr(resp, file)
	}
	buf := make([]byte, 1<<20)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			stalled.Reset(d.stall)
			if err := w.write(buf[:n]); err != nil {
				return false, fmt.Errorf("write partial download of %s: %w", file, err)
			}
			if meta.size >= 0 && w.n > meta.size {
				return true, newError(ErrServer, fmt.Sprintf("server sent more than the %d bytes announced for %s", meta.size, file))
			}
			if bar != nil {
				bar.update(w.n, time.Now())
			}
		}
		if rerr == io.EOF {
			if meta.size >= 0 && w.n < meta.size {
				return true, newError(ErrServer, fmt.Sprintf("connection closed after %d of %d bytes of %s", w.n, meta.size, file))
			}
			return false, nil
		}
		if rerr != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			if actx.Err() != nil {
				return true, stallErr()
			}
			return true, fmt.Errorf("read %s after %d bytes: %w", file, w.n, rerr)
		}
	}
}

// contentRangeStart parses the first byte position of "bytes a-b/c".
func contentRangeStart(s string) (int64, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "bytes ")
	if !ok {
		return 0, false
	}
	a, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(a, 10, 64)
	return n, err == nil
}

// blobWriter appends to a partial download and keeps its running hash in
// step with the file's length.
type blobWriter struct {
	f *os.File
	h hash.Hash // nil when the content is not checked by hash
	n int64     // bytes in the file
}

// resume positions at the end of the existing partial file, hashing what
// it already holds.
func (w *blobWriter) resume() error {
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	var dst io.Writer = io.Discard
	if w.h != nil {
		w.h.Reset()
		dst = w.h
	}
	n, err := io.Copy(dst, w.f)
	if err != nil {
		return err
	}
	w.n = n
	return nil
}

// reset empties the partial file.
func (w *blobWriter) reset() error {
	if err := w.f.Truncate(0); err != nil {
		return err
	}
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if w.h != nil {
		w.h.Reset()
	}
	w.n = 0
	return nil
}

// write appends p.
func (w *blobWriter) write(p []byte) error {
	if _, err := w.f.Write(p); err != nil {
		return err
	}
	if w.h != nil {
		w.h.Write(p)
	}
	w.n += int64(len(p))
	return nil
}

// statusError is an HTTP error answer from the hub.
type statusError struct {
	*hubError
	status int
	code   string // X-Error-Code
	commit string // X-Repo-Commit, when the hub sent one
}

// Unwrap exposes the kind for errors.Is.
func (e *statusError) Unwrap() error { return e.hubError }

// statusErr turns an HTTP error answer into a message that says what to do.
func (d *downloader) statusErr(resp *http.Response, file string) error {
	code := resp.Header.Get("X-Error-Code")
	hubMsg := strings.TrimSpace(resp.Header.Get("X-Error-Message"))
	repo, rev := d.repo.repoID, d.opts.Revision
	page := d.opts.Endpoint + "/" + repo
	tokenNote := "no token was sent: set HF_TOKEN or put a token in the token file of HF_HOME"
	if d.opts.Token != "" {
		tokenNote = "a token was sent but was not accepted for this repository: check that it has read access and that the licence was accepted with the same account"
	}
	var kind error
	var msg string
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		kind = ErrUnauthorized
		what := "is gated or private"
		if code == "GatedRepo" {
			what = "is gated"
		} else if code == "RepoNotFound" {
			what = "was not found, or is private or gated"
		}
		msg = fmt.Sprintf("model %s %s (HTTP %d for %s): check the id, accept its licence on %s and set HF_TOKEN (%s)", repo, what, resp.StatusCode, file, page, tokenNote)
	case resp.StatusCode == http.StatusNotFound:
		kind = ErrNotFound
		switch code {
		case "RevisionNotFound":
			msg = fmt.Sprintf("revision %q of model %s not found on %s (HTTP 404): check the revision", rev, repo, d.opts.Endpoint)
		case "EntryNotFound":
			msg = fmt.Sprintf("file %s not found in model %s at revision %q (HTTP 404): check the id and the revision", file, repo, rev)
		default:
			msg = fmt.Sprintf("model %s (revision %q) not found on %s: HTTP 404 for %s: check the id and the revision", repo, rev, d.opts.Endpoint, file)
		}
	default:
		kind = ErrServer
		msg = fmt.Sprintf("hub answered HTTP %d for %s of model %s (from %s)", resp.StatusCode, file, repo, hostOf(resp.Request.URL.String()))
	}
	if hubMsg != "" {
		msg += "; the hub says: " + truncate(hubMsg, 300)
	}
	commit := strings.TrimSpace(resp.Header.Get("X-Repo-Commit"))
	if !isCommit(commit) {
		commit = ""
	}
	return &statusError{hubError: &hubError{kind: kind, msg: msg}, status: resp.StatusCode, code: code, commit: commit}
}

// transportError explains a request that got no HTTP answer.
func (d *downloader) transportError(ctx context.Context, file string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("download %s of %s: %w", file, d.repo.repoID, ctx.Err())
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var urlErr *url.Error
	cause := err
	if errors.As(err, &urlErr) {
		cause = urlErr.Err // the URL may carry CDN signatures; keep it out
	}
	if errors.As(err, &dnsErr) || errors.As(err, &opErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &hubError{kind: ErrNetwork, cause: err, msg: fmt.Sprintf(
			"cannot reach the Hugging Face hub at %s to download %s of %s (%v). "+
				"Check the network (or HF_ENDPOINT); to work without network set HF_HUB_OFFLINE=1 with the model already in the cache at %s, "+
				"or use --random-weights for synthetic weights",
			hostOf(d.opts.Endpoint), file, d.repo.repoID, cause, d.repo.dir)}
	}
	return &hubError{kind: ErrNetwork, cause: err, msg: fmt.Sprintf(
		"request for %s of %s to %s failed (%v); the cache is at %s; set HF_HUB_OFFLINE=1 to work from the cache, or use --random-weights for synthetic weights",
		file, d.repo.repoID, hostOf(d.opts.Endpoint), cause, d.repo.dir)}
}

// sameHost reports whether two URLs have the same scheme and host.
func sameHost(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && strings.EqualFold(ua.Host, ub.Host) && ua.Scheme == ub.Scheme
}

// hostOf returns scheme://host of u, without path or query.
func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "(unparsable URL)"
	}
	return p.Scheme + "://" + p.Host
}

// redactURL drops the query of u (it may carry signatures).
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	p.RawQuery, p.User = "", nil
	return p.String()
}

// linkPointer makes pointer a relative symlink to blob, atomically.
func linkPointer(blob, pointer string) error {
	dir := filepath.Dir(pointer)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rel, err := filepath.Rel(dir, blob)
	if err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.%d.%d.tmp", pointer, os.Getpid(), time.Now().UnixNano())
	if err := os.Symlink(rel, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, pointer); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary file and a
// rename, creating parent directories.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(f.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(f.Name(), path)
	}
	if werr != nil {
		os.Remove(f.Name())
		return werr
	}
	return nil
}

// syncDir flushes a directory entry change; best effort.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
