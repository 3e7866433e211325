package bench

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/genbench/genbench/gocore/suggest"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// Output formats of the summary and of Compare.
const (
	FormatTable    = "table" // a box-drawing table with a header and notes (the default)
	FormatMarkdown = "md"    // the same table as GitHub markdown, paste-ready
	FormatCSV      = "csv"   // one row per config with machine-readable column names
	FormatJSON     = "json"  // an array of the CSV rows as objects
	FormatJSONL    = "jsonl" // one object per line
)

// Formats lists the output formats.
func Formats() []string {
	return []string{FormatTable, FormatMarkdown, FormatCSV, FormatJSON, FormatJSONL}
}

// ValidateFormat checks an output format name.
func ValidateFormat(f string) error {
	for _, ok := range Formats() {
		if f == ok {
			return nil
		}
	}
	return fmt.Errorf("unknown format %q%s: expected %s", f, DidYouMean(f, Formats()), strings.Join(Formats(), ", "))
}

// Column is one column of a Table: its title for people and its key for
// machines (CSV header, JSON field).
type Column struct {
	Title string
	Key   string
	Right bool // right-aligned (numbers)
}

// Table is a rendered-agnostic table: Text cells for people, Value cells
// (numbers stay numbers) for CSV and JSON. A nil Value means Text.
type Table struct {
	Columns []Column
	Text    [][]string
	Values  [][]any
}

// add appends a row; values may be nil to use the text.
func (t *Table) add(text []string, values []any) {
	t.Text = append(t.Text, text)
	t.Values = append(t.Values, values)
}

// Box renders the table with box-drawing characters.
func (t *Table) Box() string {
	var b strings.Builder
	align := make([]tw.Align, len(t.Columns))
	header := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		align[i] = tw.AlignLeft
		if c.Right {
			align[i] = tw.AlignRight
		}
		header[i] = c.Title
	}
	tb := tablewriter.NewTable(&b,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignCenter),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: align}),
	)
	tb.Header(header...)
	for _, row := range t.Text {
		_ = tb.Append(row)
	}
	if len(t.Text) == 0 {
		empty := make([]string, len(t.Columns))
		empty[0] = "(none)"
		_ = tb.Append(empty)
	}
	_ = tb.Render()
	return b.String()
}

// Markdown renders the table as GitHub-flavoured markdown with padded
// columns, numbers right-aligned, pipes in cells escaped.
func (t *Table) Markdown() string {
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	width := make([]int, len(t.Columns))
	for i, c := range t.Columns {
		width[i] = max(3, utf8.RuneCountInString(esc(c.Title)))
	}
	for _, row := range t.Text {
		for i, s := range row {
			if i < len(width) {
				width[i] = max(width[i], utf8.RuneCountInString(esc(s)))
			}
		}
	}
	pad := func(s string, i int) string {
		n := width[i] - utf8.RuneCountInString(s)
		if t.Columns[i].Right {
			return strings.Repeat(" ", n) + s
		}
		return s + strings.Repeat(" ", n)
	}
	var b strings.Builder
	b.WriteString("|")
	for i, c := range t.Columns {
		b.WriteString(" " + pad(esc(c.Title), i) + " |")
	}
	b.WriteString("\n|")
	for i, c := range t.Columns {
		if c.Right {
			b.WriteString(strings.Repeat("-", width[i]+1) + ":|")
		} else {
			b.WriteString(strings.Repeat("-", width[i]+2) + "|")
		}
	}
	b.WriteString("\n")
	for _, row := range t.Text {
		b.WriteString("|")
		for i := range t.Columns {
			s := ""
			if i < len(row) {
				s = row[i]
			}
			b.WriteString(" " + pad(esc(s), i) + " |")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// value is a cell's machine value.
func (t *Table) value(r, c int) any {
	if t.Values[r] != nil && c < len(t.Values[r]) && t.Values[r][c] != nil {
		return t.Values[r][c]
	}
	return t.Text[r][c]
}

// CSV renders the table as CSV with the column keys as header.
func (t *Table) CSV() string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	keys := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		keys[i] = c.Key
	}
	_ = w.Write(keys)
	for r := range t.Text {
		rec := make([]string, len(t.Columns))
		for c := range t.Columns {
			switch v := t.value(r, c).(type) {
			case string:
				rec[c] = v
			case float64:
				rec[c] = fmt.Sprint(v)
			default:
				data, _ := json.Marshal(v)
				rec[c] = string(data)
			}
		}
		_ = w.Write(rec)
	}
	w.Flush()
	return b.String()
}

// objects returns the rows as JSON objects with the keys in column order.
func (t *Table) objects() []json.RawMessage {
	out := make([]json.RawMessage, len(t.Text))
	for r := range t.Text {
		var b bytes.Buffer
		b.WriteString("{")
		for c, col := range t.Columns {
			if c > 0 {
				b.WriteString(",")
			}
			k, _ := json.Marshal(col.Key)
			v, err := json.Marshal(t.value(r, c))
			if err != nil {
				v = []byte("null")
			}
			b.Write(k)
			b.WriteString(":")
			b.Write(v)
		}
		b.WriteString("}")
		out[r] = b.Bytes()
	}
	return out
}

// JSON renders the rows as an indented JSON array of objects.
func (t *Table) JSON() string {
	objs := t.objects()
	if len(objs) == 0 {
		return "[]\n"
	}
	var b bytes.Buffer
	b.WriteString("[\n")
	for i, o := range objs {
		var ind bytes.Buffer
		_ = json.Indent(&ind, o, "  ", "  ")
		b.WriteString("  ")
		b.Write(ind.Bytes())
		if i < len(objs)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	return b.String()
}

// JSONL renders one compact JSON object per row and line.
func (t *Table) JSONL() string {
	var b strings.Builder
	for _, o := range t.objects() {
		b.Write(o)
		b.WriteString("\n")
	}
	return b.String()
}

// Machine renders the table in a machine format (csv, json or jsonl).
func (t *Table) Machine(format string) string {
	switch format {
	case FormatCSV:
		return t.CSV()
	case FormatJSON:
		return t.JSON()
	default:
		return t.JSONL()
	}
}

// DidYouMean returns ` (did you mean "x"?)` when one of choices is close to
// s (suggest.Closest), else "".
func DidYouMean(s string, choices []string) string { return suggest.DidYouMean(s, choices) }
