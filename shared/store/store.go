// Package store holds the errors every store implementation returns, so the
// domain can tell "not there" from "lost a race" from "store down" without
// knowing which store it talks to.
package store

import "errors"

var (
	// ErrNotFound means the item does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means a condition failed: a uniqueness claim is taken or the
	// item changed since it was read.
	ErrConflict = errors.New("store: conflict")
	// ErrUnavailable means the store could not be reached or refused the call;
	// nothing was changed.
	ErrUnavailable = errors.New("store: unavailable")
	// ErrOutcomeUnknown means a write was sent and no answer came back (a
	// timeout, a cancellation or a broken connection after sending, or the
	// service's own internal error): it may or may not have been applied.
	// Only a write to a remote store can end this way.
	ErrOutcomeUnknown = errors.New("store: outcome unknown")
)

// ErrInvalidCursor means a listing cursor was not one this store handed out.
var ErrInvalidCursor = errors.New("store: invalid cursor")
