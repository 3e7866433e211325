package main

import (
	"strings"

	"github.com/genbench/genbench/gocore/bench"
)

// flagValue finds "--name VALUE" or "--name=VALUE" at args[i]; n is the
// number of arguments it takes (0 when args[i] is not the flag).
func flagValue(args []string, i int, name string) (value string, n int) {
	a := args[i]
	if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
		return v, 1
	}
	if a == "--"+name && i+1 < len(args) {
		return args[i+1], 2
	}
	return "", 0
}

// expandRuns turns one benchmark command line into one per model: every
// --model value (repeated, or comma-separated) gets its own run with the
// other flags (--remeasure-bandwidth only in the first). Comma lists for --prompt-tokens and --max-new-tokens
// become the configs of their cartesian product (pN-gM), sampled as the
// sampling flags given with them say (greedy without any).
func expandRuns(args []string) ([][]string, error) {
	var models, rest []string
	var prompts, gens []string
	sweep := false
	for i := 0; i < len(args); i++ {
		if args[i] == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		if v, n := flagValue(args, i, "model"); n > 0 {
			for _, m := range strings.Split(v, ",") {
				if m = strings.TrimSpace(m); m != "" || v == "" {
					models = append(models, m)
				}
			}
			i += n - 1
			continue
		}
		if v, n := flagValue(args, i, "prompt-tokens"); n > 0 {
			prompts = append(prompts, v)
			sweep = sweep || strings.Contains(v, ",")
			i += n - 1
			continue
		}
		if v, n := flagValue(args, i, "max-new-tokens"); n > 0 {
			gens = append(gens, v)
			sweep = sweep || strings.Contains(v, ",")
			i += n - 1
			continue
		}
		rest = append(rest, args[i])
	}
	if sweep {
		for _, a := range rest {
			for _, f := range []string{"suite", "configs"} {
				if a == "--"+f || strings.HasPrefix(a, "--"+f+"=") {
					return nil, usagef("--%s cannot be combined with a sweep (comma lists for --prompt-tokens or --max-new-tokens run the configs pN-gM of their product)", f)
				}
			}
		}
		def := bench.DefaultRunConfig()
		p, err := sweepList("--prompt-tokens", prompts, def.PromptTokens)
		if err != nil {
			return nil, err
		}
		g, err := sweepList("--max-new-tokens", gens, def.MaxNewTokens)
		if err != nil {
			return nil, err
		}
		rest = append(rest, "--configs", strings.Join(bench.SweepKeys(p, g), ","))
	} else {
		for _, v := range prompts {
			rest = append(rest, "--prompt-tokens", v)
		}
		for _, v := range gens {
			rest = append(rest, "--max-new-tokens", v)
		}
	}
	if len(models) <= 1 {
		if len(models) == 1 {
			rest = append(rest, "--model", models[0])
		}
		return [][]string{rest}, nil
	}
	runs := make([][]string, len(models))
	for i, m := range models {
		args := rest
		if i > 0 {
			// The device's bandwidth is measured again once, by the first
			// model's run; the others read the fresh figure from the cache.
			args = withoutFlag(rest, "remeasure-bandwidth")
		}
		runs[i] = append(append([]string(nil), args...), "--model", m)
	}
	return runs, nil
}

// withoutFlag drops a switch ("--name" or "--name=VALUE") from args, up
// to a "--".
func withoutFlag(args []string, name string) []string {
	var out []string
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if a != "--"+name && !strings.HasPrefix(a, "--"+name+"=") {
			out = append(out, a)
		}
	}
	return out
}

// sweepList parses the values given for a sweep flag (the last one wins,
// as for any flag), or the default.
func sweepList(flag string, values []string, def int) ([]int, error) {
	if len(values) == 0 {
		return []int{def}, nil
	}
	l, err := bench.ParseTokenList(flag, values[len(values)-1])
	if err != nil {
		return nil, usageError{err}
	}
	return l, nil
}
