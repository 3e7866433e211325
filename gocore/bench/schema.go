package bench

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ReportSchema is the JSON Schema of reports (report.schema.json).
//
//go:embed report.schema.json
var ReportSchema []byte

// Validate checks a report document against ReportSchema and returns an
// error naming every place where it does not conform (with a JSON path such
// as $.configs[0].e2e_tok_s.median).
func Validate(reportJSON []byte) error {
	schema, err := parseJSON(ReportSchema)
	if err != nil {
		return fmt.Errorf("report schema: %w", err)
	}
	doc, err := parseJSON(reportJSON)
	if err != nil {
		return fmt.Errorf("report is not valid JSON: %w", err)
	}
	if obj, ok := doc.(map[string]any); !ok || obj["schema_version"] == nil {
		return fmt.Errorf("not a genbench report: expected a JSON object with a schema_version (version %d)", SchemaVersion)
	}
	return ValidateAgainst(schema, doc)
}

// ValidateAgainst checks a decoded JSON value (as decoded with UseNumber)
// against a decoded schema. It implements the subset of JSON Schema 2020-12
// the report schema uses: type, properties, required, additionalProperties,
// items, enum, const, minimum, maximum, exclusiveMinimum, minItems,
// minLength, maxLength and local $ref into $defs. A schema keyword outside
// this subset is an error rather than being ignored.
func ValidateAgainst(schema, doc any) error {
	root, ok := schema.(map[string]any)
	if !ok {
		return errors.New("schema: the root is not an object")
	}
	v := &validator{root: root}
	v.check("$", root, doc)
	if len(v.errs) > 0 {
		if len(v.errs) > 20 {
			v.errs = append(v.errs[:20], fmt.Sprintf("... and %d more", len(v.errs)-20))
		}
		return fmt.Errorf("report does not match schema version %d: %s", SchemaVersion, strings.Join(v.errs, "; "))
	}
	return nil
}

// parseJSON decodes one JSON value keeping numbers exact.
func parseJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}

type validator struct {
	root map[string]any
	errs []string
}

func (v *validator) fail(path, format string, args ...any) {
	v.errs = append(v.errs, path+": "+fmt.Sprintf(format, args...))
}

// annotation keywords carry no constraint.
var annotations = map[string]bool{"$schema": true, "$id": true, "$defs": true, "title": true, "description": true}

func (v *validator) check(path string, s map[string]any, doc any) {
	if ref, ok := s["$ref"]; ok {
		target, err := v.resolve(ref)
		if err != nil {
			v.fail(path, "schema: %v", err)
			return
		}
		v.check(path, target, doc)
	}
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kw := s[k]
		switch k {
		case "$ref":
		case "type":
			v.checkType(path, kw, doc)
		case "enum":
			list, _ := kw.([]any)
			if !slices.ContainsFunc(list, func(e any) bool { return jsonEqual(e, doc) }) {
				v.fail(path, "%s is not one of %s", show(doc), show(kw))
			}
		case "const":
			if !jsonEqual(kw, doc) {
				v.fail(path, "%s is not %s", show(doc), show(kw))
			}
		case "minimum", "maximum", "exclusiveMinimum":
			v.checkBound(path, k, kw, doc)
		case "minLength", "maxLength":
			if str, ok := doc.(string); ok {
				n, l := intOf(kw), utf8.RuneCountInString(str)
				if k == "minLength" && l < n || k == "maxLength" && l > n {
					v.fail(path, "string of length %d violates %s %d", l, k, n)
				}
			}
		case "minItems":
			if arr, ok := doc.([]any); ok && len(arr) < intOf(kw) {
				v.fail(path, "%d items, expected at least %d", len(arr), intOf(kw))
			}
		case "required":
			obj, ok := doc.(map[string]any)
			if !ok {
				continue
			}
			list, _ := kw.([]any)
			for _, r := range list {
				name, _ := r.(string)
				if _, ok := obj[name]; !ok {
					v.fail(path, "missing required field %q", name)
				}
			}
		case "properties":
			obj, ok := doc.(map[string]any)
			if !ok {
				continue
			}
			props, _ := kw.(map[string]any)
			for _, name := range sortedKeys(obj) {
				if ps, ok := props[name].(map[string]any); ok {
					v.check(path+"."+name, ps, obj[name])
				}
			}
		case "additionalProperties":
			obj, ok := doc.(map[string]any)
			if !ok {
				continue
			}
			props, _ := s["properties"].(map[string]any)
			for _, name := range sortedKeys(obj) {
				if _, known := props[name]; known {
					continue
				}
				switch ap := kw.(type) {
				case bool:
					if !ap {
						v.fail(path, "unexpected field %q", name)
					}
				case map[string]any:
					v.check(path+"."+name, ap, obj[name])
				}
			}
		case "items":
			arr, ok := doc.([]any)
			if !ok {
				continue
			}
			is, _ := kw.(map[string]any)
			for i, e := range arr {
				v.check(path+"["+strconv.Itoa(i)+"]", is, e)
			}
		default:
			if !annotations[k] {
				v.fail(path, "schema: unsupported keyword %q", k)
			}
		}
	}
}

// resolve follows a local reference "#/$defs/name".
func (v *validator) resolve(ref any) (map[string]any, error) {
	r, _ := ref.(string)
	name, ok := strings.CutPrefix(r, "#/$defs/")
	if !ok {
		return nil, fmt.Errorf("unsupported $ref %q (only #/$defs/NAME)", r)
	}
	defs, _ := v.root["$defs"].(map[string]any)
	target, ok := defs[name].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("$ref %q: no such definition", r)
	}
	return target, nil
}

func (v *validator) checkType(path string, kw, doc any) {
	var types []string
	switch t := kw.(type) {
	case string:
		types = []string{t}
	case []any:
		for _, e := range t {
			s, _ := e.(string)
			types = append(types, s)
		}
	}
	got := typeOf(doc)
	for _, t := range types {
		if t == got || t == "number" && got == "integer" {
			return
		}
	}
	v.fail(path, "expected %s, got %s", strings.Join(types, " or "), got)
}

func (v *validator) checkBound(path, k string, kw, doc any) {
	n, ok := doc.(json.Number)
	if !ok {
		return
	}
	x, _ := new(big.Float).SetString(n.String())
	b, ok2 := kw.(json.Number)
	if x == nil || !ok2 {
		return
	}
	bound, _ := new(big.Float).SetString(b.String())
	if bound == nil {
		return
	}
	c := x.Cmp(bound)
	switch {
	case k == "minimum" && c < 0:
		v.fail(path, "%s is below the minimum %s", n, b)
	case k == "maximum" && c > 0:
		v.fail(path, "%s is above the maximum %s", n, b)
	case k == "exclusiveMinimum" && c <= 0:
		v.fail(path, "%s must be greater than %s", n, b)
	}
}

// typeOf is the JSON Schema type of a decoded value.
func typeOf(doc any) string {
	switch d := doc.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number:
		if _, err := strconv.ParseInt(d.String(), 10, 64); err == nil {
			return "integer"
		}
		if _, err := strconv.ParseUint(d.String(), 10, 64); err == nil {
			return "integer"
		}
		if f, ok := new(big.Float).SetString(d.String()); ok && f.IsInt() {
			return "integer"
		}
		return "number"
	}
	return fmt.Sprintf("%T", doc)
}

// jsonEqual compares decoded JSON values, numbers by value.
func jsonEqual(a, b any) bool {
	na, okA := a.(json.Number)
	nb, okB := b.(json.Number)
	if okA && okB {
		fa, _ := new(big.Float).SetString(na.String())
		fb, _ := new(big.Float).SetString(nb.String())
		return fa != nil && fb != nil && fa.Cmp(fb) == 0
	}
	return reflect.DeepEqual(a, b)
}

func intOf(kw any) int {
	n, _ := kw.(json.Number)
	i, _ := strconv.Atoi(n.String())
	return i
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
