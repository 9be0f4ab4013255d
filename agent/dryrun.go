package agent

import (
	"net/http"
	"slices"
	"strconv"
)

// dryRunParam reads dry_run=true|false; a bare dry_run means true.
func dryRunParam(r *request) (bool, error) {
	q := r.URL.Query()
	if !q.Has("dry_run") {
		return false, nil
	}
	s := q.Get("dry_run")
	if s == "" {
		return true, nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return false, badRequest(CodeInvalidValue, "dry_run=%q is neither true nor false", s)
	}
	return v, nil
}

// refuseDryRun makes every write but setupnetworks refuse dry_run: a client
// that asks for one must not get a real change instead.
func (rt *router) refuseDryRun() {
	for _, route := range rt.routes {
		if slices.Equal(route.segments, []string{"hosts", "{host}", "setupnetworks"}) {
			continue
		}
		for method, h := range route.methods {
			if method == http.MethodGet {
				continue
			}
			route.methods[method] = func(r *request) (response, error) {
				if r.URL.Query().Has("dry_run") {
					return response{}, badRequest(CodeInvalidValue, "dry_run is offered by setupnetworks only")
				}
				return h(r)
			}
		}
	}
}
