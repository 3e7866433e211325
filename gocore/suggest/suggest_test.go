package suggest

import "testing"

func TestClosest(t *testing.T) {
	names := []string{"tiny-llama", "tiny-qwen3", "tiny-gemma3", "meta-llama/Llama-3.2-1B-Instruct", "short", "medium", "full"}
	for in, want := range map[string]string{
		"tiny-lama": "tiny-llama", "tiny-qwen": "tiny-qwen3", "sohrt": "short", "MEDUIM": "medium", "ful": "full",
		"meta-llama/Llama-3.2-1B": "meta-llama/Llama-3.2-1B-Instruct", "zzzz": "", "": "", "short": "",
	} {
		if got := Closest(in, names); got != want {
			t.Errorf("Closest(%q) = %q, want %q", in, got, want)
		}
	}
	// Hand-computed distances: one transposition, one substitution, kitten/sitting = 3.
	for _, c := range []struct {
		a, b string
		d    int
	}{{"ab", "ba", 1}, {"abc", "abd", 1}, {"kitten", "sitting", 3}, {"", "abc", 3}} {
		if got := distance(c.a, c.b); got != c.d {
			t.Errorf("distance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}
