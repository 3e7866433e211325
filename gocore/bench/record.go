package bench

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// DefaultLogPath is the benchmark log that --record writes without a file
// name, relative to the root of the repository (else the working
// directory): the seed's "Generation Benchmark Log".
const DefaultLogPath = "benchmarks/LOG.md"

// ResolveLogPath maps the --record value to a file: DefaultLogPath is
// taken relative to the repository root when the working directory is in
// a checkout; any other path is used as given.
func ResolveLogPath(p string) string {
	if p == DefaultLogPath {
		if root := ModuleRoot(); root != "" {
			return filepath.Join(root, filepath.FromSlash(DefaultLogPath))
		}
	}
	return p
}

// logFixedColumns are the columns of a log table before the config keys.
var logFixedColumns = []string{"Date", "Commit", "Engine", "Device", "DType"}

// logPctSuffix ends the title of a config's roofline column: "medium
// %BW" holds the config's median decode read bandwidth as a percentage of
// the device's measured bandwidth (decode_read_pct).
const logPctSuffix = " %BW"

// logPctColumn is the roofline column of config key k.
func logPctColumn(k string) string { return k + logPctSuffix }

// isLogPctColumn reports whether a column title is a roofline column.
func isLogPctColumn(title string) bool { return strings.HasSuffix(title, logPctSuffix) }

// logKeyColumns identify a run in a log table: a row whose cells in these
// columns equal the report's is the same run, and is updated in place.
var logKeyColumns = []string{"Date", "Engine", "Device"}

// newLogHeader starts a log file that does not exist yet.
const newLogHeader = `# Generation Benchmark Log

E2E throughput (tok/s, median of the timed trials). Higher is better.
One table per model, one row per run; ` + "`genbench record REPORT.json`" + ` or
` + "`--record`" + ` on a suite run adds or updates rows (a run recorded again
updates its row). A "<config> %BW" column is that config's achieved decode
read bandwidth as a percentage of the device's measured bandwidth (the
roofline). Everything else in this file is left as it is.
`

// logRow is the cells a report contributes to its model's table, by
// column title.
func logRow(r *Report) map[string]string {
	commit := shortCommit(r.Environment.GitCommit)
	if r.Environment.GitDirty {
		commit += "+dirty"
	}
	engineName := r.Engine + " " + r.EngineVersion
	if r.Driver != DriverGenbench {
		engineName += " (" + r.Driver + ")"
	}
	row := map[string]string{
		"Date":   r.CreatedAt,
		"Commit": commit,
		"Engine": engineName,
		"Device": shortDevice(r),
		"DType":  r.DType,
	}
	for _, c := range r.Configs {
		cell := fmt.Sprintf("%.1f", c.E2ETokS.Median)
		if c.E2ETokS.CV > NoisyCV && len(c.E2ETokS.Trials) > 1 {
			cell += fmt.Sprintf(" ±%.0f%%", 100*c.E2ETokS.CV)
		}
		row[c.Key] = cell
		if c.DecodeReadPct != nil {
			row[logPctColumn(c.Key)] = pctText(c.DecodeReadPct)
		}
	}
	return row
}

// shortDevice names the device in a few words: "cuda NVIDIA H100 80GB
// HBM3" or "cpu AMD EPYC 7B13 ×2".
func shortDevice(r *Report) string {
	d := r.Environment.Device
	if d.Kind == "cuda" {
		return "cuda " + d.Name
	}
	name := d.Name
	if name == "" {
		name = r.Environment.CPUModel
	}
	if d.Threads > 0 {
		return fmt.Sprintf("cpu %s ×%d", name, d.Threads)
	}
	return "cpu " + name
}

// RecordFile adds each report's row to the markdown log at path (created
// with a short header when missing), under a "## <model id>" heading per
// model, in a table with the columns Date, Commit, Engine, Device, DType
// and one per config key (the seven configs in their order; other keys,
// from ad-hoc runs or sweeps, are appended). A run already in the table
// (same Date, Engine and Device) has its row replaced. Lines outside the
// tables it writes are kept byte for byte. The file is replaced atomically.
// It returns, per report, "added" or "updated".
func RecordFile(path string, reports ...*Report) ([]string, error) {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		data = []byte(newLogHeader)
	case err != nil:
		return nil, fmt.Errorf("record: read log: %w", err)
	}
	text := string(data)
	var actions []string
	for _, r := range reports {
		var act string
		text, act, err = RecordText(text, r)
		if err != nil {
			return nil, fmt.Errorf("record: %s: %w", path, err)
		}
		actions = append(actions, act)
	}
	if err := writeAtomic(path, []byte(text)); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	return actions, nil
}

// RecordText adds or updates a report's row in a log's text (see
// RecordFile) and returns the new text and "added" or "updated".
func RecordText(text string, r *Report) (string, string, error) {
	if r.Model.ID == "" {
		return text, "", errors.New("the report names no model")
	}
	lines := strings.SplitAfter(text, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	heading := "## " + r.Model.ID
	h := -1
	for i, l := range lines {
		if strings.TrimRight(l, " \t\r\n") == heading {
			h = i
			break
		}
	}
	r.fillSpread()
	row := logRow(r)
	if h < 0 {
		// A new section at the end.
		var b strings.Builder
		b.WriteString(text)
		if text != "" && !strings.HasSuffix(text, "\n") {
			b.WriteString("\n")
		}
		if !strings.HasSuffix(b.String(), "\n\n") && b.Len() > 0 {
			b.WriteString("\n")
		}
		cols := logColumns(nil, r)
		b.WriteString(heading + "\n\n")
		b.WriteString(renderLogTable(cols, []map[string]string{row}))
		return b.String(), "added", nil
	}
	// The section's table: the first run of lines starting with "|" before
	// the next heading.
	start, end := -1, -1
	for i := h + 1; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, "#") {
			break
		}
		if strings.HasPrefix(l, "|") {
			if start < 0 {
				start = i
			}
			end = i + 1
		} else if start >= 0 {
			break
		}
	}
	var cols []string
	var rows []map[string]string
	if start >= 0 {
		var err error
		cols, rows, err = parseLogTable(lines[start:end])
		if err != nil {
			return text, "", fmt.Errorf("the table under %q (line %d): %w", heading, start+1, err)
		}
	}
	cols = logColumns(cols, r)
	action := "added"
	replaced := false
	for i, old := range rows {
		same := true
		for _, k := range logKeyColumns {
			if old[k] != row[k] {
				same = false
			}
		}
		if same {
			rows[i] = row
			replaced = true
			action = "updated"
			break
		}
	}
	if !replaced {
		rows = append(rows, row)
	}
	table := renderLogTable(cols, rows)
	var b strings.Builder
	if start < 0 {
		// No table yet: put it right after the heading.
		b.WriteString(strings.Join(lines[:h+1], ""))
		if !strings.HasSuffix(lines[h], "\n") {
			b.WriteString("\n")
		}
		b.WriteString("\n" + table)
		rest := strings.Join(lines[h+1:], "")
		if rest != "" && !strings.HasPrefix(rest, "\n") {
			b.WriteString("\n")
		}
		b.WriteString(rest)
		return b.String(), action, nil
	}
	b.WriteString(strings.Join(lines[:start], ""))
	b.WriteString(table)
	b.WriteString(strings.Join(lines[end:], ""))
	return b.String(), action, nil
}

// logColumns returns the columns a table needs: its existing ones (or, for
// a new table, the fixed columns and the seven config keys unless r is a
// sweep or an ad-hoc run), then any config key of r not yet among them
// (before the roofline columns), then a roofline column ("<key> %BW") for
// each config of r with a decode_read_pct, at the end. A table written
// before the roofline columns existed gains them at its end; its rows keep
// their cells and have none in the new columns.
func logColumns(existing []string, r *Report) []string {
	cols := slices.Clone(existing)
	if len(cols) == 0 {
		cols = slices.Clone(logFixedColumns)
		for _, c := range r.Configs {
			if _, ok := sweepConfig(c.Key); !ok && c.Key != AdhocKey {
				// A run of the named configs: all seven columns, in order.
				cols = append(cols, ConfigKeys()...)
				break
			}
		}
	}
	for _, c := range r.Configs {
		if slices.Contains(cols, c.Key) {
			continue
		}
		at := slices.IndexFunc(cols, isLogPctColumn)
		if at < 0 {
			at = len(cols)
		}
		cols = slices.Insert(cols, at, c.Key)
	}
	for _, c := range r.Configs {
		if pc := logPctColumn(c.Key); c.DecodeReadPct != nil && !slices.Contains(cols, pc) {
			cols = append(cols, pc)
		}
	}
	return cols
}

// parseLogTable reads a markdown table: the header, the alignment line,
// and rows of cells keyed by the header's titles.
func parseLogTable(lines []string) ([]string, []map[string]string, error) {
	if len(lines) < 2 {
		return nil, nil, errors.New("expected a header line and an alignment line")
	}
	cols := splitRow(lines[0])
	for _, k := range logKeyColumns {
		if !slices.Contains(cols, k) {
			return nil, nil, fmt.Errorf("no %q column (the header is %q); expected the columns %s",
				k, strings.TrimSpace(lines[0]), strings.Join(logFixedColumns, ", "))
		}
	}
	var rows []map[string]string
	for _, l := range lines[2:] {
		cells := splitRow(l)
		row := map[string]string{}
		for i, c := range cols {
			if i < len(cells) {
				row[c] = cells[i]
			}
		}
		rows = append(rows, row)
	}
	return cols, rows, nil
}

// splitRow splits "| a | b \| c |" into ["a", "b | c"].
func splitRow(line string) []string {
	l := strings.TrimSpace(line)
	l = strings.TrimPrefix(l, "|")
	l = strings.TrimSuffix(l, "|")
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(l); i++ {
		switch {
		case l[i] == '\\' && i+1 < len(l) && l[i+1] == '|':
			cur.WriteByte('|')
			i++
		case l[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(l[i])
		}
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

// renderLogTable writes a markdown table with padded columns; the config
// columns (everything after the fixed ones) are right-aligned numbers.
func renderLogTable(cols []string, rows []map[string]string) string {
	t := &Table{}
	for _, c := range cols {
		t.Columns = append(t.Columns, Column{Title: c, Right: !slices.Contains(logFixedColumns, c)})
	}
	for _, r := range rows {
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = r[c]
		}
		t.add(cells, nil)
	}
	return t.Markdown()
}

// writeAtomic replaces path with data through a temporary file in the same
// directory, keeping an existing file's permissions.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create directory: %w", err)
	}
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(dir, ".log-*.tmp")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name)
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(name, mode); err != nil {
		return err
	}
	return os.Rename(name, path)
}

// record adds the session's report to the log named by --record, if any.
func (o *Outputs) record(logFlag string) {
	if logFlag == "" {
		return
	}
	path := ResolveLogPath(logFlag)
	acts, err := RecordFile(path, o.Report)
	if err != nil {
		o.RecordErr = err
		return
	}
	o.Recorded = RecordedLine(path, o.Report, acts[0])
}

// RecordedLine is the note a front end prints after recording a report.
func RecordedLine(path string, r *Report, action string) string {
	return fmt.Sprintf("Recorded in %s: %s run of %s (%s)", path, r.CreatedAt, r.Model.ID, action)
}
