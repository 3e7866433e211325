package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/sys/cpu"

	"github.com/genbench/genbench/gocore/bench"
	"github.com/genbench/genbench/gocore/engine"
	"github.com/genbench/genbench/gocore/hub"
	"github.com/genbench/genbench/gocore/model"
	"github.com/genbench/genbench/gocore/sampling"
	"github.com/genbench/genbench/gocore/tokenizer"
)

// newFlags returns a flag set that reports errors instead of printing them.
func newFlags(name string) (*pflag.FlagSet, *bool) {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	help := fs.BoolP("help", "h", false, "show this help")
	return fs, help
}

// plainBool is a bool flag's value without pflag's IsBoolFlag, so that its
// usage line reads "--json" rather than "--json[=true|false]"; the flag's
// NoOptDefVal ("true", set by pflag for every bool) still lets it stand
// alone on the command line.
type plainBool struct{ pflag.Value }

// flagUsages is fs.FlagUsages with bool flags shown without
// "[=true|false]". It is called only to print help, after parsing.
func flagUsages(fs *pflag.FlagSet) string {
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Value.Type() == "bool" && f.NoOptDefVal == "true" {
			f.Value = plainBool{f.Value}
		}
	})
	return fs.FlagUsages()
}

// parseFlags parses args, printing help on --help.
func (a *app) parseFlags(fs *pflag.FlagSet, help *bool, args []string, usage string) error {
	if err := fs.Parse(args); err != nil {
		return usagef("%v (run genbench %s --help for the flags)", err, fs.Name())
	}
	if *help {
		fmt.Fprintf(a.stdout, "Usage: %s\n\nFlags:\n%s", usage, flagUsages(fs))
		return errHelp
	}
	return nil
}

// compare prints reports side by side.
func (a *app) compare(_ context.Context, args []string) error {
	fs, help := newFlags("compare")
	format := fs.String("format", bench.FormatTable, "output format: "+strings.Join(bench.Formats(), ", "))
	figures := fs.StringSlice("figure", nil, "show only these figures (comma-separated: "+strings.Join(bench.CompareFigureKeys(), ", ")+"); the first one gives the headlines")
	failIfSlower := fs.Float64("fail-if-slower", 0, "exit with status 1 when a shown figure of a report is worse than [1]'s by more than this percentage plus the noise of both runs (0 = off)")
	if err := a.parseFlags(fs, help, args, "genbench compare A.json B.json ... [--format md] [--figure e2e] [--fail-if-slower PCT]\n\n"+
		"Ratios and headlines are against the first report."); err != nil {
		return err
	}
	opts := bench.CompareOptions{Format: *format, Figures: *figures, FailIfSlower: *failIfSlower}
	if err := bench.ValidateCompareOptions(opts); err != nil {
		return usageError{err}
	}
	if fs.NArg() < 1 {
		return usagef("compare needs at least one report file (genbench compare A.json B.json ...)")
	}
	reports, err := loadReports(fs.Args())
	if err != nil {
		return err
	}
	out, res := bench.CompareWith(reports, opts)
	fmt.Fprint(a.stdout, out)
	if len(res.Regressions) > 0 {
		return fmt.Errorf("%d figure(s) got more than %g %% worse than [1] beyond noise: %s",
			len(res.Regressions), *failIfSlower, strings.Join(res.Regressions, "; "))
	}
	return nil
}

// generate streams a generation from a text prompt.
func (a *app) generate(ctx context.Context, args []string) error {
	fs, help := newFlags("generate")
	def := bench.DefaultRunConfig()
	modelRef := fs.String("model", "", "model: a local directory, a Hugging Face id or a built-in spec name (empty = the embedded tiny-llama)")
	prompt := fs.String("prompt", "", "prompt text (tokenized with the model's tokenizer)")
	promptIDs := fs.String("prompt-ids", "", "prompt as comma-separated token ids instead of text (for models without a tokenizer)")
	maxNew := fs.Int("max-new-tokens", 128, "maximum tokens to generate")
	temperature := fs.Float64("temperature", 0, "sampling temperature (0 = greedy)")
	topK := fs.Int("top-k", def.TopK, "top-k when sampling (0 = disabled)")
	topP := fs.Float64("top-p", def.TopP, "top-p when sampling, in (0, 1] (1 = disabled)")
	rep := fs.Float64("repetition-penalty", 1, "repetition penalty (1 = disabled)")
	seed := fs.Uint64("seed", def.Seed, "sampling seed")
	device := fs.String("device", "auto", "device: auto, cpu, cuda or cuda:N")
	dtype := fs.String("dtype", "bfloat16", "compute dtype (bfloat16)")
	random := fs.Bool("random-weights", false, "synthetic weights for the built-in spec named by --model")
	threads := fs.Int("threads", 0, "CPU worker threads (0 = all cores)")
	noStop := fs.Bool("no-stop", false, "ignore end-of-sequence and generate exactly --max-new-tokens")
	noSpecial := fs.Bool("no-special", false, "do not add the tokenizer's special tokens (BOS) to the prompt")
	if err := a.parseFlags(fs, help, args, "genbench generate --model ID_OR_PATH --prompt TEXT [flags]"); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (pass the prompt with --prompt)", fs.Arg(0))
	}
	sp := sampling.Params{
		Temperature: float32(*temperature), TopK: *topK, TopP: float32(*topP),
		RepetitionPenalty: float32(*rep), Seed: *seed,
	}
	opts := engine.Options{Model: *modelRef, Device: *device, DType: *dtype, RandomWeights: *random, Threads: *threads}
	var badMax error
	if err := bench.CheckTokenCount(*maxNew); err != nil {
		badMax = fmt.Errorf("--max-new-tokens: %w", err)
	}
	badSampling := sampling.CheckValues(*temperature, *topK, *topP, *rep, bench.FlagName) // before float32
	if err := errors.Join(badMax, badSampling, opts.ValidateAs(bench.FlagName)); err != nil {
		return usageError{err}
	}
	if (*prompt == "") == (*promptIDs == "") {
		return usagef("give exactly one of --prompt TEXT and --prompt-ids 1,2,3")
	}
	var ids []int32
	if *promptIDs != "" {
		var err error
		if ids, err = parsePromptIDs(*promptIDs); err != nil {
			return err
		}
	}

	if a.stderrTTY {
		opts.Progress = func(msg string) { fmt.Fprintln(a.stderr, msg) }
		opts.DownloadProgress = a.stderr
	}
	eng, err := engine.Load(ctx, opts)
	if err != nil {
		return fmt.Errorf("load model %q: %w", opts.ModelName(), err)
	}
	defer eng.Close()
	tok := eng.Tokenizer()
	if ids == nil {
		if tok == nil {
			return fmt.Errorf("model %q has no tokenizer: pass the prompt as ids with --prompt-ids", opts.ModelName())
		}
		ids = tok.Encode(*prompt, !*noSpecial)
		if len(ids) == 0 {
			return fmt.Errorf("the prompt encodes to no tokens")
		}
	}
	var sd *tokenizer.StreamDecoder
	if tok != nil {
		sd = tok.NewStreamDecoder(true)
	}
	stop := engine.StopOnEOS
	if *noStop {
		stop = engine.NoStop
	}
	var werr error
	write := func(s string) {
		if werr == nil && s != "" {
			_, werr = io.WriteString(a.stdout, s)
		}
	}
	res, err := eng.Generate(ctx, engine.Request{
		Prompt:       ids,
		MaxNewTokens: *maxNew,
		Sampling:     sp,
		Stop:         stop,
		OnToken: func(id int32) error {
			if sd != nil {
				write(sd.Add(id))
			} else {
				write(strconv.Itoa(int(id)) + " ")
			}
			return werr
		},
	})
	if sd != nil {
		write(sd.Flush())
	}
	write("\n")
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if werr != nil {
		return fmt.Errorf("write output: %w", werr)
	}
	f := res.Figures(len(ids))
	end := "max-new-tokens reached"
	if res.StoppedOnEOS {
		end = "end-of-sequence"
	}
	fmt.Fprintf(a.stderr, "prompt %d tokens, generated %d (%s); TTFT %.1f ms, prefill %.1f tok/s, decode %.1f tok/s, end to end %.1f tok/s in %.1f ms\n",
		len(ids), len(res.Tokens), end, f.TTFTMs, f.PrefillTokS, f.DecodeTokS, f.E2ETokS, float64(res.Total)/float64(time.Millisecond))
	return nil
}

// parsePromptIDs parses --prompt-ids: comma-separated non-negative int32
// ids (spaces around them allowed).
func parsePromptIDs(s string) ([]int32, error) {
	var ids []int32
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseInt(strings.TrimSpace(f), 10, 32)
		if err != nil || v < 0 {
			return nil, usagef("--prompt-ids: %q is not a token id (expected comma-separated non-negative integers)", f)
		}
		ids = append(ids, int32(v))
	}
	return ids, nil
}

// tokenize encodes or decodes with a model's tokenizer.
func (a *app) tokenize(ctx context.Context, args []string) error {
	fs, help := newFlags("tokenize")
	modelRef := fs.String("model", "", "directory with tokenizer.json and tokenizer_config.json, a Hugging Face id, or a built-in tiny-* name")
	jsonl := fs.Bool("jsonl", false, "read one JSON string per line on stdin, write one JSON array of ids per line")
	text := fs.String("text", "", "tokenize this text and print the JSON array of ids")
	decode := fs.Bool("decode", false, "read a JSON array of ids on stdin and write the text")
	noSpecial := fs.Bool("no-special", false, "do not add special tokens (BOS) when encoding")
	skipSpecial := fs.Bool("skip-special", false, "leave special tokens out when decoding")
	if err := a.parseFlags(fs, help, args, "genbench tokenize --model DIR (--jsonl [--no-special] | --text STRING | --decode [--skip-special])"); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	modes := 0
	for _, on := range []bool{*jsonl, fs.Changed("text"), *decode} {
		if on {
			modes++
		}
	}
	if modes != 1 {
		return usagef("give exactly one of --jsonl, --text STRING and --decode")
	}
	if *modelRef == "" {
		return usagef("--model is required: a directory with tokenizer.json and tokenizer_config.json, or a Hugging Face id")
	}
	tok, err := loadTokenizer(ctx, *modelRef)
	if err != nil {
		return err
	}
	switch {
	case *jsonl:
		return tokenizer.EncodeJSONL(a.stdin, a.stdout, tok, !*noSpecial)
	case *decode:
		if err := tokenizer.DecodeJSON(a.stdin, a.stdout, tok, *skipSpecial); err != nil {
			return err
		}
		_, err = fmt.Fprintln(a.stdout) // the text ends the line, as --text's output does
		return err
	}
	ids := tok.Encode(*text, !*noSpecial)
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(int(id))
	}
	_, err = fmt.Fprintf(a.stdout, "[%s]\n", strings.Join(parts, ","))
	return err
}

// loadTokenizer loads a tokenizer from a directory, a cached (or
// downloaded) Hugging Face model, or the built-in tiny tokenizer.
func loadTokenizer(ctx context.Context, ref string) (*tokenizer.Tokenizer, error) {
	if _, ok := model.Builtin(ref); ok && strings.HasPrefix(ref, "tiny-") {
		if fi, err := os.Stat(ref); err != nil || !fi.IsDir() {
			return tokenizer.Tiny(), nil
		}
	}
	dir, err := hub.Resolve(ctx, ref, hub.OptionsFromEnv())
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	tok, err := tokenizer.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return tok, nil
}

// env prints what the engine sees, for bug reports.
func (a *app) env(_ context.Context, args []string) error {
	fs, help := newFlags("env")
	if err := a.parseFlags(fs, help, args, "genbench env"); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q: env takes no arguments", fs.Arg(0))
	}
	e := bench.HostEnvironment(engine.DeviceInfo{Kind: "cpu"})
	w := a.stdout
	fmt.Fprintf(w, "genbench %s (commit %s", bench.Version, e.GitCommit)
	if e.GitSource == bench.GitFromCheckout {
		fmt.Fprint(w, ", read from the checkout")
	}
	if e.GitDirty {
		fmt.Fprint(w, ", modified")
	}
	fmt.Fprintf(w, "), report schema %d\n", bench.SchemaVersion)
	fmt.Fprintf(w, "os:      %s/%s %s\n", runtime.GOOS, e.Arch, e.OS)
	fmt.Fprintf(w, "go:      %s\n", e.GoVersion)
	fmt.Fprintf(w, "cpu:     %s, %d logical cores%s\n", e.CPUModel, e.CPUCores, cpuFeatures())
	if e.MemoryBytes > 0 {
		fmt.Fprintf(w, "memory:  %s\n", bench.FormatBytes(e.MemoryBytes))
	} else {
		fmt.Fprintln(w, "memory:  unknown")
	}
	cache := hub.OptionsFromEnv().CacheDir
	fmt.Fprintf(w, "hf cache: %s\n", cache)
	fmt.Fprintf(w, "models:  built-in specs %s\n", strings.Join(model.BuiltinNames(), ", "))
	return errors.Join(a.envGPU(w))
}

// cpuFeatures lists the SIMD extensions the CPU backend can use.
func cpuFeatures() string {
	if runtime.GOARCH != "amd64" {
		return ""
	}
	var f []string
	for _, x := range []struct {
		name string
		on   bool
	}{
		{"avx2", cpu.X86.HasAVX2}, {"fma", cpu.X86.HasFMA}, {"avx512f", cpu.X86.HasAVX512F},
		{"avx512bf16", cpu.X86.HasAVX512BF16},
	} {
		if x.on {
			f = append(f, x.name)
		}
	}
	if len(f) == 0 {
		return ", no avx2"
	}
	return ", " + strings.Join(f, " ")
}
