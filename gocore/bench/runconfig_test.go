package bench

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/genbench/genbench/gocore/engine"
)

// The defaults BENCH.md states: seed 42, bfloat16, 2 warm-ups, 3 trials,
// no suite (ad-hoc), device auto; plus the documented ad-hoc defaults.
func TestDefaultRunConfig(t *testing.T) {
	d := DefaultRunConfig()
	want := RunConfig{
		Suite: "", Configs: []string{}, Model: "", Device: "auto", DType: "bfloat16",
		PromptTokens: 256, MaxNewTokens: 256, Temperature: 0, TopK: 50, TopP: 0.9,
		RepetitionPenalty: 1, Seed: 42, Warmup: 2, Trials: 3, Engine: "genbench",
		Format: "table", Progress: "auto", Driver: "genbench",
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("DefaultRunConfig() =\n%+v\nwant\n%+v", d, want)
	}
	if err := d.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

// Every flag of BENCH.md exists with its type and default.
func TestFlagSpecs(t *testing.T) {
	want := map[string]struct {
		typ string
		def any
	}{
		"suite":               {FlagString, ""},
		"configs":             {FlagStrings, []string{}},
		"model":               {FlagString, ""},
		"revision":            {FlagString, ""},
		"random-weights":      {FlagBool, false},
		"device":              {FlagString, "auto"},
		"dtype":               {FlagString, "bfloat16"},
		"threads":             {FlagInt, 0},
		"prompt-tokens":       {FlagInt, 256},
		"max-new-tokens":      {FlagInt, 256},
		"temperature":         {FlagFloat, 0.0},
		"top-k":               {FlagInt, 50},
		"top-p":               {FlagFloat, 0.9},
		"repetition-penalty":  {FlagFloat, 1.0},
		"seed":                {FlagInt, uint64(42)},
		"warmup":              {FlagInt, 2},
		"trials":              {FlagInt, 3},
		"remeasure-bandwidth": {FlagBool, false},
		"engine":              {FlagString, "genbench"},
		"output-dir":          {FlagString, ""},
		"no-save":             {FlagBool, false},
		"json":                {FlagBool, false},
		"quiet":               {FlagBool, false},
		"format":              {FlagString, "table"},
		"progress":            {FlagString, "auto"},
		"record":              {FlagString, ""},
	}
	specs := FlagSpecs()
	if len(specs) != len(want) {
		t.Errorf("%d flags, want %d", len(specs), len(want))
	}
	for _, s := range specs {
		w, ok := want[s.Name]
		if !ok {
			t.Errorf("unexpected flag --%s", s.Name)
			continue
		}
		if s.Type != w.typ || !reflect.DeepEqual(s.Default, w.def) {
			t.Errorf("--%s: type %s default %#v, want %s %#v", s.Name, s.Type, s.Default, w.typ, w.def)
		}
		if s.Field != strings.ReplaceAll(s.Name, "-", "_") || s.Help == "" {
			t.Errorf("--%s: field %q help %q", s.Name, s.Field, s.Help)
		}
		var c RunConfig
		if _, err := c.FieldPointer(s.Field); err != nil {
			t.Errorf("--%s: %v", s.Name, err)
		}
	}
	// Every RunConfig field but driver is a flag.
	var c RunConfig
	b, _ := json.Marshal(c)
	var fields map[string]any
	_ = json.Unmarshal(b, &fields)
	for f := range fields {
		found := f == "driver"
		for _, s := range specs {
			found = found || s.Field == f
		}
		if !found {
			t.Errorf("RunConfig field %q has no flag", f)
		}
	}
	if _, err := c.FieldPointer("nope"); err == nil {
		t.Error("FieldPointer(nope) succeeded")
	}
}

func TestValidateErrors(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*RunConfig)
		want string
	}{
		{"negative prompt", func(c *RunConfig) { c.PromptTokens = -1 }, "--prompt-tokens: -1"},
		{"zero gen", func(c *RunConfig) { c.MaxNewTokens = 0 }, "--max-new-tokens: 0"},
		{"huge prompt", func(c *RunConfig) { c.PromptTokens = 1<<20 + 1 }, "--prompt-tokens: 1048577: expected a positive number of tokens, at most 1048576"},
		{"unknown suite", func(c *RunConfig) { c.Suite = "huge" }, `--suite: unknown suite "huge"`},
		{"unknown config", func(c *RunConfig) { c.Configs = []string{"tiny"} }, `--configs: unknown config "tiny"`},
		{"duplicate config", func(c *RunConfig) { c.Configs = []string{"short", "short"} }, `"short" is listed twice`},
		{"config not in suite", func(c *RunConfig) { c.Suite, c.Configs = "quick", []string{"long"} }, `"long" is not in suite "quick"`},
		{"top-p zero", func(c *RunConfig) { c.TopP = 0 }, "--top-p: 0 is out of range"},
		{"top-p above one", func(c *RunConfig) { c.TopP = 1.5 }, "--top-p: 1.5 is out of range"},
		{"negative temperature", func(c *RunConfig) { c.Temperature = -0.1 }, "--temperature: -0.1"},
		{"negative top-k", func(c *RunConfig) { c.TopK = -3 }, "--top-k: -3 is negative"},
		{"zero penalty", func(c *RunConfig) { c.RepetitionPenalty = 0 }, "--repetition-penalty: 0"},
		{"negative warmup", func(c *RunConfig) { c.Warmup = -1 }, "--warmup: -1 is negative"},
		{"zero trials", func(c *RunConfig) { c.Trials = 0 }, "--trials: 0"},
		{"unknown device", func(c *RunConfig) { c.Device = "tpu" }, `--device: unknown device "tpu"`},
		{"bad cuda index", func(c *RunConfig) { c.Device = "cuda:x" }, `unknown device "cuda:x"`},
		{"unknown dtype", func(c *RunConfig) { c.DType = "float16" }, `--dtype: unsupported dtype "float16"`},
		{"negative threads", func(c *RunConfig) { c.Threads = -2 }, "--threads: -2"},
		{"huge threads", func(c *RunConfig) { c.Threads = 100000 }, "--threads: 100000 is too many: expected 0 (all cores) up to"},
		// finite in float64, +Inf in the sampler's float32
		{"float32 temperature overflow", func(c *RunConfig) { c.Temperature = 1e308 }, "--temperature: 1e+308: expected a finite value >= 0 (0 = greedy), at most 3.403e+38"},
		{"float32 penalty overflow", func(c *RunConfig) { c.RepetitionPenalty = 1e308 }, "--repetition-penalty: 1e+308: expected a finite value from"},
		{"float32 penalty underflow", func(c *RunConfig) { c.RepetitionPenalty = 1e-300 }, "--repetition-penalty: 1e-300"},
		{"float32 top-p underflow", func(c *RunConfig) { c.TopP = 1e-300 }, "--top-p: 1e-300 is out of range"},
		{"unknown engine", func(c *RunConfig) { c.Engine = "vllm" }, `--engine: unknown engine "vllm"`},
		{"no-save with an output dir", func(c *RunConfig) { c.NoSave, c.OutputDir = true, "out" }, `--output-dir: "out" is not used with --no-save`},
	}
	for _, tc := range cases {
		c := DefaultRunConfig()
		tc.mod(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
		if _, err := c.Plan(); err == nil {
			t.Errorf("%s: Plan succeeded", tc.name)
		}
	}
	for _, d := range []string{"auto", "cpu", "cuda", "cuda:0", "cuda:3"} {
		if _, err := engine.ParseDevice(d); err != nil {
			t.Errorf("ParseDevice(%q) = %v", d, err)
		}
	}
	for _, d := range []string{"", "gpu", "cuda:", "cuda:-1", "CPU"} {
		if _, err := engine.ParseDevice(d); err == nil {
			t.Errorf("ParseDevice(%q) succeeded", d)
		}
	}
}

func TestPlan(t *testing.T) {
	keys := func(cs []Config) []string {
		var k []string
		for _, c := range cs {
			k = append(k, c.Key)
		}
		return k
	}
	c := DefaultRunConfig()
	c.Suite = "standard"
	p, err := c.Plan()
	if err != nil || !reflect.DeepEqual(keys(p), []string{"short", "medium", "prefill", "decode", "sampled"}) {
		t.Errorf("standard plan = %v, %v", keys(p), err)
	}
	if c.SuiteName() != "standard" {
		t.Errorf("SuiteName = %q", c.SuiteName())
	}
	// A selection runs in the suite's order, whatever order it is given in.
	c.Configs = []string{"sampled", "short"}
	p, err = c.Plan()
	if err != nil || !reflect.DeepEqual(keys(p), []string{"short", "sampled"}) {
		t.Errorf("standard+configs plan = %v, %v", keys(p), err)
	}
	c.Suite = ""
	c.Configs = []string{"full-pipe", "long"}
	p, err = c.Plan()
	if err != nil || !reflect.DeepEqual(keys(p), []string{"long", "full-pipe"}) || c.SuiteName() != "custom" {
		t.Errorf("custom plan = %v, %v, %q", keys(p), err, c.SuiteName())
	}
	// Ad-hoc: the seed's example command.
	c = DefaultRunConfig()
	c.PromptTokens, c.MaxNewTokens, c.Temperature, c.Seed = 128, 32, 0.8, 7
	p, err = c.Plan()
	if err != nil || len(p) != 1 {
		t.Fatalf("adhoc plan = %v, %v", p, err)
	}
	a := p[0]
	if a.Key != "adhoc" || a.PromptTokens != 128 || a.GenTokens != 32 || SamplingLabel(a.Sampling) != "temp=0.8 top_k=50 top_p=0.9" || c.SuiteName() != "adhoc" {
		t.Errorf("adhoc config = %+v (%s)", a, SamplingLabel(a.Sampling))
	}
	// Greedy ad-hoc records the filters as disabled.
	c.Temperature = 0
	p, _ = c.Plan()
	if p[0].Sampling.TopK != 0 || p[0].Sampling.TopP != 1 || SamplingLabel(p[0].Sampling) != "greedy" {
		t.Errorf("greedy adhoc sampling = %+v", p[0].Sampling)
	}
}

func TestEngineOptions(t *testing.T) {
	c := DefaultRunConfig()
	o := c.EngineOptions()
	if o.ModelName() != "tiny-llama" || o.Device != "auto" || o.DType != "bfloat16" {
		t.Errorf("default options = %+v", o)
	}
	c.Model, c.Device, c.Threads = "/models/x", "cuda:1", 4
	o = c.EngineOptions()
	if o.Model != "/models/x" || o.RandomWeights || o.Device != "cuda:1" || o.Threads != 4 {
		t.Errorf("options = %+v", o)
	}
}

// A JSON config with only some fields keeps the defaults of the others.
func TestRunConfigJSON(t *testing.T) {
	c := DefaultRunConfig()
	if err := json.Unmarshal([]byte(`{"suite":"quick","trials":1,"configs":["medium"]}`), &c); err != nil {
		t.Fatal(err)
	}
	if c.Suite != "quick" || c.Trials != 1 || c.Warmup != 2 || c.Seed != 42 || !reflect.DeepEqual(c.Configs, []string{"medium"}) {
		t.Errorf("decoded = %+v", c)
	}
}

// The largest accepted values still fit the sampler's float32 and pass
// sampling.Params.Validate after conversion.
func TestValidateFloat32Limits(t *testing.T) {
	c := DefaultRunConfig()
	c.Temperature, c.RepetitionPenalty, c.TopK = 3.4e38, 3.4e38, 0
	if err := c.Validate(); err != nil {
		t.Fatalf("3.4e38: %v", err)
	}
	if err := c.adhocSampling().Validate(); err != nil {
		t.Errorf("converted params: %v", err)
	}
	c.Temperature = 3.5e38
	if err := c.Validate(); err == nil {
		t.Errorf("temperature 3.5e38 accepted")
	}
}

// Help texts are printf-safe: argparse (bench_generation.py --help)
// formats them with %, so a bare % would break the Python driver's help.
func TestFlagHelpHasNoPercent(t *testing.T) {
	for _, s := range FlagSpecs() {
		if strings.Contains(s.Help, "%") {
			t.Errorf("--%s: help %q contains %%", s.Name, s.Help)
		}
	}
}
