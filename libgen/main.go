// Command libgen is the genbench engine built as a C shared library
// (go build -buildmode=c-shared -o build/libgen.so ./libgen). Its exported
// functions implement the C interface declared in capi/genbench.h; they
// translate arguments and results and call the same gocore packages as the
// genbench command, so both give the same generations, reports and
// summaries.
//
// Engines cross the interface as table identifiers, never as Go pointers;
// every exported function recovers from panics and reports them as status
// codes, so no panic reaches the host program.
package main

// main is required by -buildmode=c-shared and never runs.
func main() {}
