package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/genbench/genbench/gocore/sidefile"
)

// Files the engine needs from a model repository.
const (
	fileConfig          = "config.json"
	fileGenerationCfg   = "generation_config.json"
	fileTokenizer       = "tokenizer.json"
	fileTokenizerConfig = "tokenizer_config.json"
	fileWeights         = "model.safetensors"
	fileWeightsIndex    = "model.safetensors.index.json"
)

// requiredFiles are needed in every snapshot, besides the weights.
var requiredFiles = [...]string{fileConfig, fileTokenizer, fileTokenizerConfig}

// commitRe matches a full git commit hash.
var commitRe = regexp.MustCompile(`^[0-9a-f]{40}$`)

// isCommit reports whether s is a full 40-hex commit hash.
func isCommit(s string) bool { return commitRe.MatchString(s) }

// repoCache is the cache folder of one model repository.
type repoCache struct {
	cacheDir string // the hub cache root
	repoID   string // org/name
	folder   string // models--org--name
	dir      string // cacheDir/folder
}

// newRepoCache returns the cache paths of repoID under cacheDir.
func newRepoCache(cacheDir, repoID string) *repoCache {
	folder := "models--" + strings.ReplaceAll(repoID, "/", "--")
	return &repoCache{cacheDir: cacheDir, repoID: repoID, folder: folder, dir: filepath.Join(cacheDir, folder)}
}

func (r *repoCache) blobsDir() string { return filepath.Join(r.dir, "blobs") }

func (r *repoCache) blobPath(etag string) string { return filepath.Join(r.dir, "blobs", etag) }

func (r *repoCache) refPath(revision string) string {
	return filepath.Join(r.dir, "refs", filepath.FromSlash(revision))
}

func (r *repoCache) snapshotDir(commit string) string {
	return filepath.Join(r.dir, "snapshots", commit)
}

func (r *repoCache) pointerPath(commit, file string) string {
	return filepath.Join(r.snapshotDir(commit), filepath.FromSlash(file))
}

func (r *repoCache) noExistPath(commit, file string) string {
	return filepath.Join(r.dir, ".no_exist", commit, filepath.FromSlash(file))
}

func (r *repoCache) lockPath(etag string) string {
	return filepath.Join(r.cacheDir, ".locks", r.folder, etag+".lock")
}

// readRef returns the commit hash stored in refs/{revision}.
func (r *repoCache) readRef(revision string) (string, error) {
	b, err := os.ReadFile(r.refPath(revision))
	if err != nil {
		return "", err
	}
	c := strings.TrimSpace(string(b))
	if !isCommit(c) {
		return "", fmt.Errorf("%s holds %q, not a 40-hex commit hash", r.refPath(revision), truncate(c, 60))
	}
	return c, nil
}

// lookup returns the snapshot directory for revision when it is complete,
// else "" and a description of each place it looked.
// With skipWeights, the weight files are not required.
func (r *repoCache) lookup(revision string, skipWeights bool) (dir string, looked []string) {
	commit := revision
	if !isCommit(revision) {
		c, err := r.readRef(revision)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return "", []string{r.refPath(revision) + ": missing (revision not cached)"}
			}
			return "", []string{r.refPath(revision) + ": " + err.Error()}
		}
		looked = append(looked, r.refPath(revision)+": points to commit "+c)
		commit = c
	}
	snap := r.snapshotDir(commit)
	missing := missingFiles(snap, skipWeights)
	if len(missing) == 0 {
		return snap, nil
	}
	return "", append(looked, snap+": missing "+strings.Join(missing, ", "))
}

// missingFiles lists what snapshot dir lacks to be usable by the engine;
// nil means complete. A symlink whose blob is gone counts as missing. With
// skipWeights, only the config and tokenizer files are required.
func missingFiles(dir string, skipWeights bool) []string {
	var missing []string
	for _, f := range requiredFiles {
		if !isFile(filepath.Join(dir, f)) {
			missing = append(missing, f)
		}
	}
	if skipWeights || isFile(filepath.Join(dir, fileWeights)) {
		return missing
	}
	indexPath := filepath.Join(dir, fileWeightsIndex)
	if !isFile(indexPath) {
		return append(missing, fileWeights+" (or "+fileWeightsIndex+")")
	}
	shards, err := readIndexShards(indexPath)
	if err != nil {
		return append(missing, fileWeightsIndex+" (unusable: "+err.Error()+")")
	}
	for _, s := range shards {
		if !isFile(filepath.Join(dir, filepath.FromSlash(s))) {
			missing = append(missing, s)
		}
	}
	return missing
}

// isFile reports whether path (following symlinks) is a regular file.
func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// readIndexShards returns the sorted, distinct shard file names of a
// safetensors index, each checked by checkRelPath.
func readIndexShards(path string) ([]string, error) {
	b, err := sidefile.Read(path, sidefile.IndexLimit)
	if err != nil {
		return nil, err
	}
	return parseIndexShards(b, path)
}

// parseIndexShards is readIndexShards on the file's contents; name is used
// in errors.
func parseIndexShards(b []byte, name string) ([]string, error) {
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("parse %s: %w (expected a JSON object with a \"weight_map\")", name, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("%s: \"weight_map\" is missing or empty (expected tensor name -> shard file)", name)
	}
	seen := map[string]bool{}
	var shards []string
	for tensor, f := range idx.WeightMap {
		if err := checkRelPath(f); err != nil {
			return nil, fmt.Errorf("%s: shard of tensor %q: %w", name, tensor, err)
		}
		if !seen[f] {
			seen[f] = true
			shards = append(shards, f)
		}
	}
	sort.Strings(shards)
	return shards, nil
}

// checkRelPath refuses a repository file name that could escape the
// snapshot folder or is not a plain relative path with '/' separators.
func checkRelPath(name string) error {
	bad := func(why string) error {
		return newError(ErrUnsafePath, fmt.Sprintf("refused file name %q: %s (expected a relative path inside the repository, '/'-separated, without '..')", truncate(name, 200), why))
	}
	switch {
	case name == "":
		return bad("empty")
	case strings.ContainsRune(name, 0):
		return bad("contains a NUL byte")
	case strings.Contains(name, `\`):
		return bad("contains a backslash")
	case strings.HasPrefix(name, "/") || filepath.IsAbs(name) || filepath.VolumeName(name) != "":
		return bad("absolute path")
	}
	for _, part := range strings.Split(name, "/") {
		switch part {
		case "..":
			return bad("contains '..'")
		case "", ".":
			return bad("contains an empty or '.' path element")
		}
	}
	return nil
}

// checkRevision refuses a revision that cannot name refs/{revision} safely.
func checkRevision(rev string) error {
	if err := checkRelPath(rev); err != nil {
		return newError(ErrBadReference, fmt.Sprintf("bad revision %q: expected a branch, tag or commit hash without '..', backslashes or a leading '/'", truncate(rev, 200)))
	}
	return nil
}

// etagRe matches an etag usable as a blob file name.
var etagRe = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$`)

// normalizeEtag strips the weak marker and quotes, as huggingface_hub does.
func normalizeEtag(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "W/")
	return strings.Trim(s, `"`)
}

// truncate shortens s for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
