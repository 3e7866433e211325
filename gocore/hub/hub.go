// Package hub resolves a model reference to a local directory: a local
// directory path is used as it is; a Hugging Face model id ("org/name") is
// looked up in the local Hugging Face cache and, when it is missing and the
// network is allowed, downloaded into that cache.
//
// The cache is the one huggingface_hub maintains and is fully interoperable
// with it:
//
//	{CacheDir}/models--{org}--{name}/
//	    blobs/{etag}                       file contents, named by their etag
//	    blobs/{etag}.incomplete            a download in progress (resumable)
//	    refs/{revision}                    the commit hash a revision points to
//	    snapshots/{commit}/{file}          relative symlink to ../../blobs/{etag}
//	    .no_exist/{commit}/{file}          marks an optional file the repo lacks
//	{CacheDir}/.locks/models--{org}--{name}/{etag}.lock
//
// Only the files the engine needs are fetched: config.json,
// tokenizer.json, tokenizer_config.json, generation_config.json (optional),
// and model.safetensors or model.safetensors.index.json with its shards
// (Options.SkipWeights leaves the weights out).
//
// Downloads follow huggingface_hub: a HEAD request on
// {endpoint}/{repo}/resolve/{revision}/{file} gives the commit
// (X-Repo-Commit), the etag (X-Linked-Etag for LFS files, else ETag), the
// size (X-Linked-Size, else Content-Length) and, for LFS files, the CDN
// location to GET. Every file is checked against its size; LFS files, whose
// etag is their SHA-256, are also checked by hash before being moved into
// blobs/. The token is sent to the endpoint's host only, never to the CDN.
// Interrupted transfers are retried and resumed with Range requests; a
// cancelled run leaves only the .incomplete file, which the next run
// resumes. File names from the server or the shard index that could escape
// the cache are refused.
package hub

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// DefaultEndpoint is the public Hugging Face Hub.
const DefaultEndpoint = "https://huggingface.co"

// DefaultRevision is the revision used when none is given.
const DefaultRevision = "main"

// Options configure Resolve. Build them with OptionsFromEnv and override
// fields as needed; Resolve itself never reads the environment.
type Options struct {
	// Revision is a branch, tag or commit hash; "" means "main".
	Revision string
	// CacheDir is the hub cache root. OptionsFromEnv sets it from
	// HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub.
	// Resolve refuses an empty CacheDir for a model id.
	CacheDir string
	// Endpoint is the hub URL; "" means https://huggingface.co.
	// OptionsFromEnv sets it from HF_ENDPOINT.
	Endpoint string
	// Token is sent as "Authorization: Bearer" to the endpoint only. It is
	// never printed, logged or included in errors. OptionsFromEnv sets it
	// from HF_TOKEN, else the token file (HF_TOKEN_PATH, else HF_HOME/token).
	Token string
	// Offline forbids all network access (OptionsFromEnv sets it when
	// HF_HUB_OFFLINE is 1/true/yes/on).
	Offline bool
	// Progress receives per-file download progress (bytes, rate, ETA) when
	// it is a terminal; otherwise, or when nil, downloads are quiet.
	Progress io.Writer
	// SkipWeights resolves only config.json, generation_config.json and the
	// tokenizer files, neither requiring nor downloading the safetensors
	// weights (for synthetic weights, or to tokenize).
	SkipWeights bool
	// HTTPClient is used for all requests; nil means a client with sensible
	// connection timeouts and no overall deadline (cancel through ctx).
	HTTPClient *http.Client
}

// OptionsFromEnv returns Options filled from the process environment the
// way huggingface_hub reads it (see the field docs). Progress and
// HTTPClient are left nil.
func OptionsFromEnv() Options {
	home, _ := os.UserHomeDir()
	return optionsFromEnv(os.Getenv, home)
}

// optionsFromEnv is OptionsFromEnv with the environment and the home
// directory passed in.
func optionsFromEnv(getenv func(string) string, home string) Options {
	o := Options{Revision: DefaultRevision, Endpoint: DefaultEndpoint}

	hfHome := getenv("HF_HOME")
	if hfHome == "" {
		xdg := getenv("XDG_CACHE_HOME")
		if xdg == "" && home != "" {
			xdg = filepath.Join(home, ".cache")
		}
		if xdg != "" {
			hfHome = filepath.Join(xdg, "huggingface")
		}
	}
	hfHome = expandHome(hfHome, home)

	switch {
	case getenv("HF_HUB_CACHE") != "":
		o.CacheDir = expandHome(getenv("HF_HUB_CACHE"), home)
	case getenv("HUGGINGFACE_HUB_CACHE") != "":
		o.CacheDir = expandHome(getenv("HUGGINGFACE_HUB_CACHE"), home)
	case hfHome != "":
		o.CacheDir = filepath.Join(hfHome, "hub")
	}

	if e := strings.TrimSpace(getenv("HF_ENDPOINT")); e != "" {
		o.Endpoint = strings.TrimRight(e, "/")
	}

	o.Token = strings.TrimSpace(getenv("HF_TOKEN"))
	if o.Token == "" {
		o.Token = strings.TrimSpace(getenv("HUGGING_FACE_HUB_TOKEN"))
	}
	if o.Token == "" {
		path := expandHome(getenv("HF_TOKEN_PATH"), home)
		if path == "" && hfHome != "" {
			path = filepath.Join(hfHome, "token")
		}
		if path != "" {
			if b, err := os.ReadFile(path); err == nil {
				o.Token = strings.TrimSpace(string(b))
			}
		}
	}

	o.Offline = isTrue(getenv("HF_HUB_OFFLINE"))
	return o
}

// expandHome replaces a leading "~" with home.
func expandHome(p, home string) string {
	if home == "" {
		return p
	}
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") {
		return filepath.Join(home, p[2:])
	}
	return p
}

// isTrue reports whether an environment value is one huggingface_hub
// treats as true.
func isTrue(v string) bool {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "1", "ON", "YES", "TRUE":
		return true
	}
	return false
}

// repoPart is one side of "org/name": letters, digits, '-', '_', '.',
// starting and ending with a letter or digit.
var repoPart = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$`)

// IsRepoID reports whether s has the form of a Hugging Face model id
// "org/name" (letters, digits, '-', '_', '.'; no "--" or ".."; at most 96
// characters). It does not check that the repository exists.
func IsRepoID(s string) bool {
	if len(s) > 96 || strings.Contains(s, "--") || strings.Contains(s, "..") {
		return false
	}
	org, name, ok := strings.Cut(s, "/")
	if !ok || strings.Contains(name, "/") {
		return false
	}
	return repoPart.MatchString(org) && repoPart.MatchString(name) &&
		!strings.HasSuffix(name, ".git")
}

// Resolve turns ref into a directory that holds the model files.
//
// In order: an existing local directory is returned as it is; a Hugging
// Face id (see IsRepoID) whose snapshot for opts.Revision is complete in
// opts.CacheDir is returned as that snapshot directory without any network
// access; otherwise, unless opts.Offline, the missing files are downloaded
// into the cache and the snapshot directory is returned. A branch that is
// already cached completely is not checked for newer commits; pass a commit
// hash as the revision to pin another one. Downloads stop when ctx is
// cancelled, keeping partial files for the next run to resume. Errors say
// what was wrong, where Resolve looked and what to do; errors.Is matches
// them against the Err* kinds.
func Resolve(ctx context.Context, ref string, opts Options) (string, error) {
	if ref == "" {
		return "", newError(ErrBadReference, "empty model reference: expected a local directory or a Hugging Face id such as meta-llama/Llama-3.2-1B-Instruct")
	}
	fi, statErr := os.Stat(ref)
	if statErr == nil {
		if fi.IsDir() {
			return ref, nil
		}
		return "", newError(ErrBadReference, fmt.Sprintf("model %q is a file, not a directory: expected a model directory or a Hugging Face id (org/name)", ref))
	}
	if !IsRepoID(ref) {
		return "", newError(ErrBadReference, fmt.Sprintf("model %q is neither an existing local directory (%v) nor a Hugging Face id of the form org/name", ref, statErr))
	}
	if opts.Revision == "" {
		opts.Revision = DefaultRevision
	}
	if err := checkRevision(opts.Revision); err != nil {
		return "", err
	}
	if opts.CacheDir == "" {
		return "", newError(ErrBadReference, "no Hugging Face cache directory: set HF_HUB_CACHE or HF_HOME (Options.CacheDir is empty)")
	}
	if opts.Endpoint == "" {
		opts.Endpoint = DefaultEndpoint
	}
	opts.Endpoint = strings.TrimRight(opts.Endpoint, "/")

	repo := newRepoCache(opts.CacheDir, ref)
	dir, looked := repo.lookup(opts.Revision, opts.SkipWeights)
	if dir != "" {
		return dir, nil
	}
	if opts.Offline {
		return "", notCachedError(ref, opts.Revision, opts.CacheDir, statErr, looked)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("resolve %s: %w", ref, err)
	}
	d := newDownloader(opts, repo)
	return d.run(ctx)
}

// notCachedError builds the offline "where it looked" error, on one line
// so that any frontend can print it as it is.
func notCachedError(ref, revision, cacheDir string, statErr error, looked []string) error {
	var places []string
	if statErr != nil {
		abs, err := filepath.Abs(ref)
		if err != nil {
			abs = ref
		}
		places = append(places, abs+": not a local directory")
	}
	places = append(places, looked...)
	msg := fmt.Sprintf("model %q (revision %q) is not available offline (HF_HUB_OFFLINE is set or offline mode was requested); looked in: %s. "+
		"To fix: download it once with network access (unset HF_HUB_OFFLINE), "+
		"point HF_HUB_CACHE at a cache that holds it (the cache in use is %s), "+
		"pass a local model directory, or use --random-weights for synthetic weights",
		ref, revision, strings.Join(places, "; "), cacheDir)
	return newError(ErrNotCached, msg)
}

// errorKind classifies errors; see the Err* values.
type errorKind struct{ name string }

func (k *errorKind) Error() string { return k.name }

// Error kinds, for errors.Is on errors returned by Resolve.
var (
	ErrBadReference = error(&errorKind{"bad model reference"})
	ErrNotCached    = error(&errorKind{"model not in cache"})
	ErrUnauthorized = error(&errorKind{"gated or private model"})
	ErrNotFound     = error(&errorKind{"not found on the hub"})
	ErrNetwork      = error(&errorKind{"hub unreachable"})
	ErrChecksum     = error(&errorKind{"checksum mismatch"})
	ErrUnsafePath   = error(&errorKind{"unsafe file name"})
	ErrServer       = error(&errorKind{"unexpected hub response"})
)

// hubError is an error with a full message and a kind for errors.Is.
type hubError struct {
	kind  error
	msg   string
	cause error
}

func newError(kind error, msg string) error { return &hubError{kind: kind, msg: msg} }

func (e *hubError) Error() string { return e.msg }

// Unwrap exposes the kind and the underlying cause, if any.
func (e *hubError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.kind, e.cause}
	}
	return []error{e.kind}
}
