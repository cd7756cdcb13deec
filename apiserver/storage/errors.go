package storage

import (
	"errors"
	"fmt"
)

// Error is a storage failure that the API layer maps onto a status code.
type Error struct {
	Code Code
	Key  string
	Msg  string
}

// Code says what kind of failure an Error is.
type Code int

const (
	// NotFound: no object at the key.
	NotFound Code = iota + 1
	// Exists: create found an object at the key.
	Exists
	// Conflict: the object changed since the version the caller started from.
	Conflict
	// Expired: the revision asked for has been compacted away.
	Expired
	// InvalidToken: a continue token that cannot be decoded.
	InvalidToken
	// TooLargeRV: the revision asked for is beyond etcd's current one.
	TooLargeRV
	// TooLarge: the object is bigger than etcd takes in one request.
	TooLarge
)

func (e *Error) Error() string {
	if e.Msg != "" {
		return e.Msg
	}
	return fmt.Sprintf("storage: %s: code %d", e.Key, e.Code)
}

func newError(code Code, key, format string, args ...any) *Error {
	return &Error{Code: code, Key: key, Msg: fmt.Sprintf(format, args...)}
}

func hasCode(err error, c Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == c
}

// IsNotFound reports whether err says the object does not exist.
func IsNotFound(err error) bool { return hasCode(err, NotFound) }

// IsExists reports whether err says the object already exists.
func IsExists(err error) bool { return hasCode(err, Exists) }

// IsConflict reports whether err says the object was modified concurrently.
func IsConflict(err error) bool { return hasCode(err, Conflict) }

// IsExpired reports whether err says a revision is too old (compacted).
func IsExpired(err error) bool { return hasCode(err, Expired) }

// IsInvalidToken reports whether err says a continue token is malformed.
func IsInvalidToken(err error) bool { return hasCode(err, InvalidToken) }

// IsTooLargeRV reports whether err says a revision is in the future; its
// message is kube-apiserver's "Too large resource version: N, current: M".
func IsTooLargeRV(err error) bool { return hasCode(err, TooLargeRV) }

func tooLargeRV(key string, rev, current int64) *Error {
	return newError(TooLargeRV, key, "Too large resource version: %d, current: %d", rev, current)
}

// IsTooLarge reports whether err says an object is too big to store.
func IsTooLarge(err error) bool { return hasCode(err, TooLarge) }

// NewConflict is the error a Linked plan returns when a key it depends on
// is taken meanwhile: the write starts again from a fresh read.
func NewConflict(key, msg string) error { return newError(Conflict, key, "%s", msg) }
