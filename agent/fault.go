package agent

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/xmlapi"
)

// Stable fault codes of the HTTP layer. Validation rules of the engine carry
// their own codes (the oVirt engine message keys).
const (
	CodeMalformed        = "MALFORMED_REQUEST"
	CodeInvalidValue     = "INVALID_VALUE"
	CodeNotFound         = "ENTITY_NOT_FOUND"
	CodeMethodNotAllowed = "METHOD_NOT_ALLOWED"
	CodeNotAcceptable    = "NOT_ACCEPTABLE"
	CodeUnsupportedMedia = "UNSUPPORTED_MEDIA_TYPE"
	CodeBodyTooLarge     = "REQUEST_BODY_TOO_LARGE"
	CodeInternal         = "INTERNAL_ERROR"
)

// Fault is an API error: the HTTP status and the oVirt fault body.
type Fault struct {
	Status int
	xmlapi.Fault
	// Allow lists the methods of the resource, for 405 answers.
	Allow []string
}

func (f *Fault) Error() string {
	return fmt.Sprintf("%d %s: %s (%s)", f.Status, f.Reason, f.Detail, f.Code)
}

func newFault(status int, code, reason, format string, args ...any) *Fault {
	return &Fault{Status: status, Fault: xmlapi.Fault{Reason: reason, Detail: fmt.Sprintf(format, args...), Code: code}}
}

func notFound(what, id string) *Fault {
	return newFault(http.StatusNotFound, CodeNotFound, "Entity not found: "+what, "%s %q does not exist", what, id)
}

func badRequest(code, format string, args ...any) *Fault {
	return newFault(http.StatusBadRequest, code, "Invalid value", format, args...)
}

// statusOfKind is the one table from the engine's error kinds to HTTP.
var statusOfKind = map[engine.Kind]int{
	engine.Invalid:          http.StatusBadRequest,
	engine.Conflict:         http.StatusConflict,
	engine.Busy:             http.StatusConflict,
	engine.NotFound:         http.StatusNotFound,
	engine.LostConnection:   http.StatusBadRequest,
	engine.ApplyFailed:      http.StatusBadRequest,
	engine.RollbackFailed:   http.StatusInternalServerError,
	engine.StateWriteFailed: http.StatusInternalServerError,
	engine.Stopping:         http.StatusServiceUnavailable,
	engine.Restoring:        http.StatusServiceUnavailable,
	engine.Internal:         http.StatusInternalServerError,
}

// faultOf is the fault an error answers with: the agent's own, the
// engine's by its kind (a broken rule of netconf's is the engine's too),
// or an internal error.
func faultOf(err error) *Fault {
	var f *Fault
	if errors.As(err, &f) {
		return f
	}
	var ee *engine.Error
	if errors.As(engine.RuleError(err), &ee) {
		status, ok := statusOfKind[ee.Kind]
		if !ok {
			status = http.StatusInternalServerError
		}
		return &Fault{Status: status, Fault: xmlapi.Fault{Reason: ee.Reason, Detail: ee.Detail, Code: ee.Code}}
	}
	return newFault(http.StatusInternalServerError, CodeInternal, "Operation Failed", "%v", err)
}
