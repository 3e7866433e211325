//go:build tools

// Package tools pins the module's dependencies before every package that
// uses them exists; it is never built.
package tools

import (
	_ "github.com/ebitengine/purego"
	_ "github.com/olekukonko/tablewriter"
	_ "github.com/spf13/pflag"
	_ "golang.org/x/sys/unix"
	_ "golang.org/x/text/unicode/norm"
)
