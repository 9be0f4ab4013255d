package agent

import (
	"fmt"
	"net/http"

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
