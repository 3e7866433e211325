package bench

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// SweepKey is the config key of a sweep point: "p64-g128" is a run of 64
// prompt tokens and 128 generated tokens, sampled as the run's sampling
// flags say (--temperature, --top-k, --top-p, --repetition-penalty; greedy
// by default), which the config's sampling and its summary label show.
// --configs accepts these keys next to the seven named configs.
func SweepKey(prompt, gen int) string { return fmt.Sprintf("p%d-g%d", prompt, gen) }

// sweepConfig parses a sweep key into a greedy config (RunConfig.Plan
// gives it the run's sampling).
func sweepConfig(key string) (Config, bool) {
	p, g, ok := strings.Cut(key, "-g")
	if !ok || !strings.HasPrefix(p, "p") {
		return Config{}, false
	}
	prompt, err1 := strconv.Atoi(p[1:])
	gen, err2 := strconv.Atoi(g)
	if err1 != nil || err2 != nil || CheckTokenCount(prompt) != nil || CheckTokenCount(gen) != nil || SweepKey(prompt, gen) != key {
		return Config{}, false
	}
	return Config{
		Key:          key,
		PromptTokens: prompt,
		GenTokens:    gen,
		Sampling:     (&RunConfig{TopP: 1, RepetitionPenalty: 1}).adhocSampling(),
		Purpose:      "Sweep point",
	}, true
}

// ParseTokenList parses a --prompt-tokens or --max-new-tokens value: one
// count or a comma-separated list of distinct counts ("64,256,1024").
func ParseTokenList(flag, value string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(value, ",") {
		f = strings.TrimSpace(f)
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a token count: expected a positive integer or a comma-separated list of them (e.g. 64,256)", flag, f)
		}
		if err := CheckTokenCount(n); err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
		if slices.Contains(out, n) {
			return nil, fmt.Errorf("%s: %d is listed twice", flag, n)
		}
		out = append(out, n)
	}
	return out, nil
}

// SweepKeys is the cartesian product of prompt and generation lengths as
// sweep keys, prompt lengths outermost (as llama-bench orders -p and -n).
func SweepKeys(prompts, gens []int) []string {
	var keys []string
	for _, p := range prompts {
		for _, g := range gens {
			keys = append(keys, SweepKey(p, g))
		}
	}
	return keys
}

// IsSweepKey reports whether key names a sweep point (pN-gM).
func IsSweepKey(key string) bool {
	_, ok := sweepConfig(key)
	return ok
}
