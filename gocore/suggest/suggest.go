// Package suggest finds the intended name behind a misspelt one, for
// "did you mean" hints in error messages.
package suggest

import (
	"fmt"
	"strings"
)

// Closest returns the choice closest to s (case-insensitive optimal string
// alignment distance, at most a third of s's length and at least 1, or a
// choice that s is a prefix of), or "".
func Closest(s string, choices []string) string {
	if s == "" {
		return ""
	}
	ls := strings.ToLower(s)
	best, bestD := "", 1<<30
	for _, c := range choices {
		if d := distance(ls, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD == 0 {
		return ""
	}
	if bestD <= max(1, len(s)/3) || (len(s) >= 2 && strings.HasPrefix(strings.ToLower(best), ls)) {
		return best
	}
	return ""
}

// DidYouMean is ` (did you mean "x"?)` for Closest's x, or "".
func DidYouMean(s string, choices []string) string {
	if c := Closest(s, choices); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}

// distance is the optimal-string-alignment distance between a and b
// (bytes): insertions, deletions, substitutions and transpositions of
// adjacent bytes each cost 1.
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
