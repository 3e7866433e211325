package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/genbench/genbench/gocore/bench"
	"github.com/genbench/genbench/gocore/cpu"
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

// expandRuns turns one benchmark command line into one per model and
// thread count: every --model value (repeated, or comma-separated) gets its
// own run with the other flags, and a comma list for --threads (as
// llama-bench's -t 1,2,4) runs each model once per thread count, model
// after model; --remeasure-bandwidth stays in the first model's runs (the
// bandwidth is cached per thread count). Comma lists for --prompt-tokens
// and --max-new-tokens become the configs of their cartesian product
// (pN-gM), sampled as the sampling flags given with them say (greedy
// without any).
func expandRuns(args []string) ([][]string, error) {
	var models, rest []string
	var prompts, gens, threads []string
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
		if v, n := flagValue(args, i, "threads"); n > 0 {
			threads = append(threads, v)
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
	threadRuns := []string{""} // "": as given (no list)
	if len(threads) > 0 {
		last := threads[len(threads)-1] // the last one wins, as for any flag
		if !strings.Contains(last, ",") {
			rest = append(rest, "--threads", last)
		} else {
			l, err := parseThreadList(last)
			if err != nil {
				return nil, err
			}
			threadRuns = l
		}
	}
	named := len(models) > 0
	if !named {
		models = []string{""} // the default model
	}
	var runs [][]string
	for i, m := range models {
		args := rest
		if i > 0 {
			// The device's bandwidth is measured again once, by the first
			// model's runs; the others read the fresh figure from the cache.
			args = withoutFlag(rest, "remeasure-bandwidth")
		}
		for _, t := range threadRuns {
			run := append([]string(nil), args...)
			if t != "" {
				run = append(run, "--threads", t)
			}
			if named {
				run = append(run, "--model", m)
			}
			runs = append(runs, run)
		}
	}
	return runs, nil
}

// parseThreadList parses a comma list of --threads values: each a thread
// count the CPU backend takes (0 = all cores), none twice.
func parseThreadList(value string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(value, ",") {
		f = strings.TrimSpace(f)
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, usagef("--threads: %q is not a thread count: expected 0 (all cores), a positive integer or a comma-separated list of them (e.g. 1,2,4)", f)
		}
		if err := cpu.CheckThreads(n); err != nil {
			return nil, usagef("--threads: %v", err)
		}
		v := fmt.Sprint(n)
		if slices.Contains(out, v) {
			return nil, usagef("--threads: %d is listed twice", n)
		}
		out = append(out, v)
	}
	return out, nil
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
