// Command libgen is the genbench engine built as a C shared library
// (go build -buildmode=c-shared -o build/libgen.so ./libgen). Its exported
// functions implement the C interface declared in capi/genbench.h; they
// translate arguments and results and call the same gocore packages as the
// genbench command, so both give the same generations, reports and
// summaries.
//
// Engines cross the interface as table identifiers, never as Go pointers;
// every exported function recovers from panics and reports them as status
// codes, so no panic reaches the host program.
package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// modulePath is the Go module whose checkout holds benchmarks/reports.
const modulePath = "github.com/genbench/genbench"

// main is required by -buildmode=c-shared and never runs.
func main() {}

// defaultReportDir is where a report is saved when no output directory is
// given, as the genbench command chooses it: benchmarks/reports under the
// checkout of this module found by walking up from the working directory,
// else ./benchmarks/reports.
func defaultReportDir() string {
	rel := filepath.Join("benchmarks", "reports")
	dir, err := os.Getwd()
	if err != nil {
		return rel
	}
	for {
		if isModuleRoot(filepath.Join(dir, "go.mod")) {
			return filepath.Join(dir, rel)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return rel
		}
		dir = parent
	}
}

// isModuleRoot reports whether path is a go.mod declaring modulePath.
func isModuleRoot(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m, ok := strings.CutPrefix(line, "module "); ok {
			return strings.Trim(strings.TrimSpace(m), `"`) == modulePath
		}
	}
	return false
}
