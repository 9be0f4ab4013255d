package agent

import (
	"strconv"

	"github.com/hostnetd/hostnetd/agent/internal/search"
)

// CodeSearchSyntax is the fault code of a search= the engine's grammar
// does not parse.
const CodeSearchSyntax = "SEARCH_SYNTAX_ERROR"

// oneHostScope is the data center and the cluster of the one-host engine
// hostnetd answers as: every host, network and event is in them.
const oneHostScope = "Default"

// searchParams parses a collection's search= (oVirt's search language,
// agent/internal/search) and case_sensitive= (true unless false, as the
// engine's).
func searchParams(r *request) (*search.Query, bool, error) {
	caseSensitive := true
	if s := r.URL.Query().Get("case_sensitive"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, false, badRequest(CodeInvalidValue, "case_sensitive=%q is not true or false", s)
		}
		caseSensitive = b
	}
	q, err := search.Parse(r.URL.Query().Get("search"))
	if err != nil {
		return nil, false, badRequest(CodeSearchSyntax, "search=%q: %v", r.URL.Query().Get("search"), err)
	}
	return q, caseSensitive, nil
}

// engineScope resolves the fields every searchable object of the one-host
// engine has: its data center and cluster, both "Default".
func engineScope(field string) (string, bool) {
	switch field {
	case "datacenter", "datacenter.name", "data_center", "cluster", "cluster.name":
		return oneHostScope, true
	}
	return "", false
}
