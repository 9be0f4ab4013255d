package agent

import (
	"net/http"
	"slices"
	"strings"

	"github.com/hostnetd/hostnetd/xmlapi"
)

// apiPrefixes are the accepted API roots, longest first.
var apiPrefixes = []string{"/ovirt-engine/api/v4", "/ovirt-engine/api", "/api"}

// request is what a handler gets: the HTTP request, the path parameters and
// the body, already read within the size limit.
type request struct {
	*http.Request
	params map[string]string
	body   []byte
}

func (r *request) param(name string) string { return r.params[name] }

// response is a handler's answer: a status and a document (nil for an
// empty body), and for writes the number of kernel writes they made.
type response struct {
	status int
	doc    *xmlapi.Node
	// list, when set, is the document instead of doc: a collection
	// rendered as it is written.
	list   *xmlapi.Collection
	writes int
	// location, when set, is the Location header: where an accepted
	// request is followed.
	location string
}

func ok(doc *xmlapi.Node) response { return response{status: http.StatusOK, doc: doc} }

type handler func(*request) (response, error)

// route binds a path pattern below the API prefix ("hosts/{host}/nics") to
// handlers by method.
type route struct {
	segments []string
	methods  map[string]handler
}

type router struct{ routes []route }

func (rt *router) handle(pattern string, methods map[string]handler) {
	var segs []string
	if pattern != "" {
		segs = strings.Split(pattern, "/")
	}
	rt.routes = append(rt.routes, route{segments: segs, methods: methods})
}

// match finds the route of a path below the prefix. It returns the handler
// for the method, or a fault: 404 when no route matches, 405 (with the
// allowed methods) when the route exists but not the method.
func (rt *router) match(method, path string) (handler, map[string]string, *Fault) {
	segs := splitPath(path)
	for _, r := range rt.routes {
		params, ok := matchSegments(r.segments, segs)
		if !ok {
			continue
		}
		if h, ok := r.methods[method]; ok {
			return h, params, nil
		}
		if method == http.MethodHead {
			if h, ok := r.methods[http.MethodGet]; ok {
				return h, params, nil
			}
		}
		allow := make([]string, 0, len(r.methods))
		for m := range r.methods {
			allow = append(allow, m)
		}
		slices.Sort(allow)
		f := newFault(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "Method not allowed",
			"%s is not allowed on this resource; allowed: %s", method, strings.Join(allow, ", "))
		f.Allow = allow
		return nil, nil, f
	}
	return nil, nil, newFault(http.StatusNotFound, CodeNotFound, "Not found", "no resource at %q", "/"+strings.Join(segs, "/"))
}

func splitPath(path string) []string {
	var segs []string
	for _, s := range strings.Split(path, "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	return segs
}

func matchSegments(pattern, segs []string) (map[string]string, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	var params map[string]string
	for i, p := range pattern {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if params == nil {
				params = make(map[string]string)
			}
			params[p[1:len(p)-1]] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// stripPrefix returns the path below the API prefix. Repeated slashes are
// folded first: the oVirt SDKs produce "//" from a base URL that ends in "/".
func stripPrefix(path string) (string, bool) {
	path = foldSlashes(path)
	for _, p := range apiPrefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return strings.TrimPrefix(path, p), true
		}
	}
	return "", false
}
