package main

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// FuzzCLIInputs fuzzes the command line's list arguments: --prompt-ids
// (parsePromptIDs) and --configs (through parseBench). No panic; a refusal
// is a usage error with a message; accepted ids are exactly the
// comma-separated fields, each a non-negative int32 (checked against
// strconv); accepted configs are known keys without repeats.
func FuzzCLIInputs(f *testing.F) {
	for _, s := range []string{"1,2,3", " 4 , 5", "1,,2", "-1", "2147483648", "x", "", "0", "short,medium", "short, short", " decode ,long,", "full-pipe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := parsePromptIDs(s)
		fields := strings.Split(s, ",")
		if err != nil {
			if !errors.As(err, new(usageError)) || err.Error() == "" {
				t.Fatalf("--prompt-ids %q: %v is not a usage error", s, err)
			}
		} else {
			if len(ids) != len(fields) {
				t.Fatalf("--prompt-ids %q: %d ids from %d fields", s, len(ids), len(fields))
			}
			for i, f := range fields {
				v, perr := strconv.ParseInt(strings.TrimSpace(f), 10, 32)
				if perr != nil || v < 0 || int32(v) != ids[i] {
					t.Fatalf("--prompt-ids %q: field %q accepted as %d", s, f, ids[i])
				}
			}
		}
		cfg, _, err := parseBench([]string{"--configs", s})
		if err != nil {
			if !errors.As(err, new(usageError)) || err.Error() == "" {
				t.Fatalf("--configs %q: %v is not a usage error", s, err)
			}
			return
		}
		seen := map[string]bool{}
		for _, k := range cfg.Configs {
			if seen[k] || strings.TrimSpace(k) != k || k == "" {
				t.Fatalf("--configs %q accepted %q", s, cfg.Configs)
			}
			seen[k] = true
		}
	})
}
