//go:build !unix

package hub

import "context"

// lockFile is a no-op where advisory file locks are not available.
func lockFile(context.Context, string) (func(), error) { return func() {}, nil }
