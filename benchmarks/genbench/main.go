// Command genbench is the native driver of the genbench engine: the
// generation benchmark (the default command) and a small toolbox.
//
//	genbench [bench] [--suite quick|standard|full] [--model ID_OR_PATH] [flags]
//	genbench generate --model ID_OR_PATH --prompt TEXT [flags]
//	genbench tokenize --model DIR (--jsonl [--no-special] | --text STRING | --decode)
//	genbench compare A.json B.json ...
//	genbench env
//	genbench selftest [--device cuda:N] [--quick]
//
// Exit status: 0 success, 2 bad usage (unknown flag or command, a value out
// of range), 1 any other error. Errors are one line on stderr.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
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
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, stderrTTY: isTerminal(os.Stderr)}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := a.run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// commands maps subcommand names to their implementations.
var commands = map[string]func(a *app, ctx context.Context, args []string) error{
	"bench":    (*app).bench,
	"generate": (*app).generate,
	"tokenize": (*app).tokenize,
	"compare":  (*app).compare,
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
		err = usagef("unknown command %q: expected bench, generate, tokenize, compare, env, selftest or help (run genbench help)", cmd)
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
  genbench env                    show what the engine sees (CPU, memory, GPUs, libraries)
  genbench selftest               check every GPU op and whole models against the CPU reference
  genbench help                   this text

Run "genbench bench --help" (or any command with --help) for its flags.
Exit status: 0 success, 2 bad usage, 1 other errors.
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

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
