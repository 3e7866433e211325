package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/genbench/genbench/gocore/sidefile"
)

// Marshal returns the report's JSON document (indented, newline-terminated).
func Marshal(r *Report) ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode report: %w", err)
	}
	return append(b, '\n'), nil
}

// FileName is the report's file name: the start time (so names sort by
// time), the model and the suite, e.g.
// 20261127T031500Z_meta-llama--Llama-3.2-1B-Instruct_quick.json.
func FileName(r *Report) string {
	stamp := "00000000T000000Z"
	if t, err := time.Parse(time.RFC3339, r.CreatedAt); err == nil {
		stamp = t.UTC().Format("20060102T150405Z")
	}
	return stamp + "_" + modelSlug(r.Model.ID) + "_" + slug(r.Suite) + ".json"
}

// modelSlug turns a model id or path into a file-name part: "org/name"
// becomes "org--name" (as the Hugging Face cache names it), a path its
// last element.
func modelSlug(id string) string {
	if id == "" {
		return "model"
	}
	if filepath.IsAbs(id) || strings.HasPrefix(id, ".") || strings.Count(id, "/") > 1 {
		id = filepath.Base(filepath.Clean(id))
	}
	return slug(strings.ReplaceAll(id, "/", "--"))
}

// slug keeps letters, digits, '.', '-' and '_', replacing anything else by '-'.
func slug(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "x"
	}
	return b.String()
}

// CheckOutputDir checks, before a run, that Save will be able to write
// into dir: it creates dir if missing and creates and removes a temporary
// file there, so a read-only, full or misspelt directory is reported before
// the run rather than after it.
func CheckOutputDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output directory %s: %w (give a writable --output-dir, or --no-save)", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".report-check-*.tmp")
	if err != nil {
		return fmt.Errorf("output directory %s is not writable: %w (give a writable --output-dir, or --no-save)", dir, err)
	}
	name := tmp.Name()
	_, werr := tmp.Write([]byte("{}\n"))
	cerr := tmp.Close()
	rerr := os.Remove(name)
	if err := errors.Join(werr, cerr, rerr); err != nil {
		return fmt.Errorf("output directory %s is not writable: %w (give a writable --output-dir, or --no-save)", dir, err)
	}
	return nil
}

// Save writes the report as JSON into dir (created if missing) under
// FileName, atomically: the document is written to a temporary file that
// is renamed into place, and an existing report is never overwritten (a
// numeric suffix is added instead). It returns the path written.
func Save(r *Report, dir string) (string, error) {
	data, err := Marshal(r)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("save report: create directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".report-*.tmp")
	if err != nil {
		return "", fmt.Errorf("save report: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // no-op once linked or renamed away
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", fmt.Errorf("save report: write %s: %w", tmpName, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("save report: sync %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("save report: close %s: %w", tmpName, err)
	}
	if err := os.Chmod(tmpName, 0o644); err != nil {
		return "", fmt.Errorf("save report: %w", err)
	}
	base := strings.TrimSuffix(FileName(r), ".json")
	for i := 1; i < 1000; i++ {
		name := base + ".json"
		if i > 1 {
			name = fmt.Sprintf("%s_%d.json", base, i)
		}
		path := filepath.Join(dir, name)
		// A hard link fails when the name exists, so nothing is overwritten.
		err := os.Link(tmpName, path)
		if err == nil {
			return path, nil
		}
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		// File systems without hard links: check, then rename.
		if _, statErr := os.Lstat(path); statErr == nil {
			continue
		}
		if err := os.Rename(tmpName, path); err != nil {
			return "", fmt.Errorf("save report: %w", err)
		}
		return path, nil
	}
	return "", fmt.Errorf("save report: too many reports named %s*.json in %s", base, dir)
}

// LoadReport reads a report file, checks it against the schema and decodes it.
func LoadReport(path string) (*Report, error) {
	data, err := sidefile.Read(path, sidefile.ReportLimit)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	if err := Validate(data); err != nil {
		return nil, fmt.Errorf("report %s: %w", path, err)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("report %s: %w", path, err)
	}
	r.fillSpread()
	return &r, nil
}
