// Package sidefile reads the small files that come with a checkpoint or a
// run (config.json, generation_config.json, tokenizer.json,
// tokenizer_config.json, the safetensors index, reports) safely: only a
// regular file is read, never a device, a FIFO or a directory (which could
// block forever or grow memory without bound), and only up to a size limit.
package sidefile

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// Size limits, far above the real files (a Gemma 3 tokenizer.json is about
// 33 MB, a config.json a few KB, the index of a 400B-parameter checkpoint
// well under 1 MB).
const (
	// ConfigLimit bounds config.json, generation_config.json and
	// tokenizer_config.json.
	ConfigLimit = 16 << 20
	// TokenizerLimit bounds tokenizer.json.
	TokenizerLimit = 512 << 20
	// IndexLimit bounds model.safetensors.index.json.
	IndexLimit = 64 << 20
	// ReportLimit bounds a benchmark report.
	ReportLimit = 64 << 20
)

// Read returns the contents of the regular file at path (symbolic links
// followed), refusing anything else and any file over limit bytes. Errors
// name the path and what was expected; a missing file gives an error that
// matches os.ErrNotExist.
func Read(path string, limit int64) ([]byte, error) {
	// O_NONBLOCK: opening a FIFO must not wait for a writer.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s): expected a file", path, kind(st.Mode()))
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, over the limit of %d bytes for this file", path, st.Size(), limit)
	}
	// The size may change while reading: read at most limit+1 bytes.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s grew over the limit of %d bytes while being read", path, limit)
	}
	return data, nil
}

// kind names a non-regular file mode.
func kind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "mode " + m.String()
}
