package bench

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReport feeds report documents (seeded with the two test reports)
// through what compare, genbench_validate_report and
// genbench_render_summary do: Validate, decode, render in every format,
// compare with a real report and with itself, and encode. Nothing may
// panic; a document Validate accepts must decode, and its encoding must
// validate again. Run it with a short minimisation time: the seeds are
// 5-12 KB, and minimising each new input of that size uses the whole
// default -fuzzminimizetime (60 s), during which no execs are reported:
//
//	go test -run '^$' -fuzz '^FuzzReport$' -fuzztime 60s -fuzzminimizetime 2s ./gocore/bench
func FuzzReport(f *testing.F) {
	var seeds [][]byte
	for _, name := range []string{"report_cpu_quick.json", "report_cuda_full.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
		f.Add(b)
	}
	f.Add([]byte(`{"schema_version": 1}`))
	f.Add([]byte(`{"schema_version": 1, "configs": "oops"}`))
	f.Add([]byte(`[]`))
	var base Report
	if err := json.Unmarshal(seeds[0], &base); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if len(doc) > 1<<16 {
			return
		}
		if err := Validate(doc); err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		var r Report
		if err := json.Unmarshal(doc, &r); err != nil {
			t.Fatalf("a report that validates does not decode: %v", err)
		}
		for _, format := range []string{FormatTable, FormatMarkdown} {
			_ = Summary(&r, format)
		}
		_ = Compare([]*Report{&r})
		_ = Compare([]*Report{&base, &r})
		out, err := Marshal(&r)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		if err := Validate(out); err != nil {
			t.Fatalf("the re-encoded report does not validate: %v\n%s", err, out)
		}
	})
}
