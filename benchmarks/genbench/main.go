// Command genbench is the native driver of the genbench engine: the
// generation benchmark (the default command) and a small toolbox.
//
//	genbench [bench] [--suite quick|standard|full] [--model ID_OR_PATH] [flags]
//	genbench generate --model ID_OR_PATH --prompt TEXT [flags]
//	genbench tokenize --model DIR (--jsonl [--no-special] | --text STRING | --decode)
//	genbench compare A.json B.json ...
//	genbench record REPORT.json ... [--log FILE]
//	genbench plot REPORT.json ... -o FILE.svg|FILE.png
//	genbench env
//	genbench selftest [--device cuda:N] [--quick]
//
// Exit status: 0 success, 2 bad usage (unknown flag or command, a value out
// of range), 1 any other error. Errors are one line on stderr. SIGINT,
// SIGTERM and SIGHUP stop the run at the next token (a benchmark saves and
// prints the finished configs, marked incomplete) and the exit status is
// then 128 + the signal number (130, 143, 129); a second signal kills at
// once.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/genbench/genbench/gocore/bench"
	"github.com/genbench/genbench/gocore/tty"
)

// usageError marks an error caused by the command line (exit status 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// usagef builds a usageError.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// app holds the process's streams, so the commands are testable.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// stderrTTY is true when stderr is a terminal (progress is shown).
	stderrTTY bool
}

func main() {
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, stderrTTY: tty.IsTerminal(os.Stderr)}
	ctx, caught, stop := notifySignals(context.Background())
	code := a.run(ctx, os.Args[1:])
	stop()
	if s, ok := (<-caught).(syscall.Signal); ok && code != 0 {
		code = 128 + int(s)
	}
	os.Exit(code)
}

// stopSignals are the signals that stop a run gracefully.
var stopSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// notifySignals returns a context cancelled by the first of stopSignals;
// after stop, caught yields that signal (nil if none came). The first
// signal restores the default action, so a second one kills the process.
func notifySignals(parent context.Context) (ctx context.Context, caught <-chan os.Signal, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, stopSignals...)
	done := make(chan struct{})
	result := make(chan os.Signal, 1)
	go func() {
		var got os.Signal
		select {
		case got = <-sigs:
			signal.Reset(stopSignals...)
			cancel()
		case <-done:
		}
		result <- got
	}()
	var once sync.Once
	return ctx, result, func() {
		once.Do(func() {
			signal.Stop(sigs)
			close(done)
			cancel()
		})
	}
}

// commands maps subcommand names to their implementations.
var commands = map[string]func(a *app, ctx context.Context, args []string) error{
	"bench":    (*app).bench,
	"generate": (*app).generate,
	"tokenize": (*app).tokenize,
	"compare":  (*app).compare,
	"record":   (*app).record,
	"plot":     (*app).plot,
	"env":      (*app).env,
	"selftest": (*app).selftest,
}

// run dispatches to a subcommand and turns its error into an exit status.
func (a *app) run(ctx context.Context, args []string) int {
	cmd, rest := "bench", args
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, rest = args[0], args[1:]
	}
	var err error
	switch f, ok := commands[cmd]; {
	case cmd == "help":
		a.printHelp(a.stdout)
		return 0
	case !ok:
		names := []string{"help"}
		for n := range commands {
			names = append(names, n)
		}
		err = usagef("unknown command %q%s: expected bench, generate, tokenize, compare, record, plot, env, selftest or help (run genbench help)", cmd, bench.DidYouMean(cmd, names))
	default:
		err = f(a, ctx, rest)
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(a.stderr, "genbench: %v\n", oneLine(err))
		return 2
	default:
		fmt.Fprintf(a.stderr, "genbench: %v\n", oneLine(err))
		return 1
	}
}

// errHelp reports that help was printed as asked.
var errHelp = errors.New("help requested")

func (a *app) printHelp(w io.Writer) {
	fmt.Fprint(w, `genbench: an LLM generation engine and single-stream benchmark.

Usage:
  genbench [bench] [flags]        run the benchmark (a suite with --suite, else one ad-hoc run)
  genbench generate [flags]       generate text from a prompt, streaming it
  genbench tokenize [flags]       tokenize or detokenize with a model's tokenizer
  genbench compare A.json B.json  put benchmark reports side by side
  genbench record REPORT.json     add reports' rows to the benchmark log (benchmarks/LOG.md)
  genbench plot REPORT.json -o F  chart reports (bars per config, sweeps, decode vs context) as SVG or PNG
  genbench env                    show what the engine sees (CPU, memory, GPUs, libraries)
  genbench selftest               check every GPU op and whole models against the CPU reference
  genbench help                   this text

Run "genbench bench --help" (or any command with --help) for its flags.
Exit status: 0 success, 2 bad usage, 1 other errors; 128+N when signal N
(SIGINT 130, SIGTERM 143, SIGHUP 129) stopped a run, after saving what finished.
`)
}

// oneLine joins a multi-line error (errors.Join) into one line.
func oneLine(err error) string {
	s := err.Error()
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, "; "...)
			continue
		}
		out = append(out, s[i])
	}
	return string(out)
}
