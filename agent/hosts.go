package agent

import (
	"os"
	"strconv"
	"time"

	"github.com/hostnetd/hostnetd/agent/internal/search"
	"github.com/hostnetd/hostnetd/xmlapi"
)

func (a *Agent) getAPIRoot(*request) (response, error) {
	info := xmlapi.APIInfo{Build: a.opts.Version, HostUp: a.hostInfo().Status == "up", Now: time.Now()}
	return ok(xmlapi.APIRoot(a.ctx(), info)), nil
}

func (a *Agent) hostInfo() xmlapi.HostInfo {
	name := a.hostName()
	status := "up"
	select {
	case <-a.eng.Restored():
	default:
		status = "initializing"
	}
	return xmlapi.HostInfo{ID: a.hostID, Name: name, Status: status, OperationInProgress: a.eng.Busy(), ConfigDirty: a.eng.Dirty()}
}

// listHosts is GET /hosts: the one host, or no host when a search does
// not match it.
func (a *Agent) listHosts(r *request) (response, error) {
	q, caseSensitive, err := searchParams(r)
	if err != nil {
		return response{}, err
	}
	limit, err := maxParam(r)
	if err != nil {
		return response{}, err
	}
	h := a.hostInfo()
	if limit == 0 || !q.Match(hostFields(h), caseSensitive) {
		return ok(xmlapi.Elem("hosts")), nil
	}
	return ok(xmlapi.Hosts(a.ctx(), h)), nil
}

// hostFields resolves the engine's host search fields.
func hostFields(h xmlapi.HostInfo) search.Fields {
	return func(field string) (string, bool) {
		switch field {
		case "name", "address":
			return h.Name, true
		case "status":
			return h.Status, true
		}
		return engineScope(field)
	}
}

func (a *Agent) getHost(r *request) (response, error) {
	if err := a.checkHost(r); err != nil {
		return response{}, err
	}
	return ok(xmlapi.Host(a.ctx(), a.hostInfo())), nil
}

// checkHost answers 404 for any host but this one.
func (a *Agent) checkHost(r *request) error {
	if id := r.param("host"); id != a.hostID {
		return notFound("host", id)
	}
	return nil
}

// maxParam reads oVirt's max=N; absent or -1 means no limit.
func maxParam(r *request) (int, error) {
	s := r.URL.Query().Get("max")
	if s == "" {
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < -1 {
		return 0, badRequest(CodeInvalidValue, "max=%q is not a whole number of at least -1", s)
	}
	return n, nil
}

// hostName is the host's name: Options.HostName, or the machine's.
func (a *Agent) hostName() string {
	if a.opts.HostName != "" {
		return a.opts.HostName
	}
	name, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return name
}
