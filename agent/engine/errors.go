package engine

import (
	"errors"
	"fmt"

	"github.com/hostnetd/hostnetd/netconf"
)

// Kind says what went wrong with an engine call, in the terms a caller
// decides on: the HTTP edge turns each kind into a status (agent/fault.go),
// once, as nmstate converts its ErrorKind at the boundary.
type Kind int

const (
	// Invalid: the request breaks a rule; nothing was written.
	Invalid Kind = iota + 1
	// Conflict: the request contradicts the host's configuration (a name
	// in use, a network still attached); nothing was written.
	Conflict
	// Busy: another write held the writer slot for the whole wait.
	Busy
	// NotFound: the request names something that does not exist.
	NotFound
	// LostConnection: nobody confirmed connectivity in time; rolled back.
	LostConnection
	// ApplyFailed: the kernel refused a step or verification failed;
	// rolled back.
	ApplyFailed
	// RollbackFailed: the change failed and so did undoing it.
	RollbackFailed
	// StateWriteFailed: the state directory could not be written.
	StateWriteFailed
	// Stopping: hostnetd is stopping, or stopped the change (rolled back).
	Stopping
	// Restoring: restore at boot has not finished; writes wait for it.
	Restoring
	// Internal: anything else.
	Internal
)

var kindNames = map[Kind]string{
	Invalid: "invalid", Conflict: "conflict", Busy: "busy", NotFound: "not found",
	LostConnection: "lost connection", ApplyFailed: "apply failed", RollbackFailed: "rollback failed",
	StateWriteFailed: "state write failed", Stopping: "stopping", Restoring: "restoring", Internal: "internal",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Rejected reports whether an error of this kind leaves the kernel
// untouched by construction: the request was refused before any write.
func (k Kind) Rejected() bool {
	switch k {
	case Invalid, Conflict, Busy, NotFound:
		return true
	}
	return false
}

// Error is an engine failure with its kind, the stable code clients match
// on (the oVirt engine's message keys, or hostnetd's own), a short reason
// and the detail for a human.
type Error struct {
	Kind   Kind
	Code   string
	Reason string
	Detail string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s (%s)", e.Kind, e.Detail, e.Code)
}

func newError(kind Kind, code, reason, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

func notFound(what, id string) *Error {
	return newError(NotFound, CodeNotFound, "Entity not found: "+what, "%s %q does not exist", what, id)
}

// CodeNotFound is the code of every NotFound error.
const CodeNotFound = "ENTITY_NOT_FOUND"

// CodeInternal is the code of an Internal error.
const CodeInternal = "INTERNAL_ERROR"

// RuleError turns a broken validation rule into its engine error: Invalid,
// or Conflict for rules about what the host already carries; and a
// netconf.NotFoundError into NotFound. Other errors pass unchanged.
func RuleError(err error) error {
	var nf *netconf.NotFoundError
	if errors.As(err, &nf) {
		return notFound(nf.What, nf.ID)
	}
	var re *netconf.RuleError
	if !errors.As(err, &re) {
		return err
	}
	kind := Invalid
	if re.Conflict {
		kind = Conflict
	}
	if re.Bare {
		return newError(kind, re.Code, "Operation Failed", "%s", re.Msg)
	}
	return newError(kind, re.Code, "Operation Failed", "Cannot setup Networks. %s", re.Msg)
}
