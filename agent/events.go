package agent

import (
	"strconv"
	"time"

	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/agent/internal/search"
	"github.com/hostnetd/hostnetd/xmlapi"
)

// listEvents is GET /events and GET /hosts/{id}/events (the same events:
// every event is this host's), with the engine's max=N, from=ID (only the
// events after that one: how a client follows the log) and search.
func (a *Agent) listEvents(r *request) (response, error) {
	if r.param("host") != "" {
		if err := a.checkHost(r); err != nil {
			return response{}, err
		}
	}
	limit, err := maxParam(r)
	if err != nil {
		return response{}, err
	}
	var from int64
	if s := r.URL.Query().Get("from"); s != "" {
		if from, err = strconv.ParseInt(s, 10, 64); err != nil || from < 0 {
			return response{}, badRequest(CodeInvalidValue, "from=%q is not an event id", s)
		}
	}
	q, caseSensitive, err := searchParams(r)
	if err != nil {
		return response{}, err
	}
	host := a.hostInfo().Name
	keep := func(e engine.Event) bool { return q.Match(eventFields(e, host), caseSensitive) }
	var views []xmlapi.EventView
	for _, e := range a.eng.Events().Newest(limit, from, keep) {
		views = append(views, eventView(e))
	}
	return ok(xmlapi.Events(a.ctx(), views)), nil
}

// getEvent is GET /events/{event} and GET /hosts/{id}/events/{event}.
func (a *Agent) getEvent(r *request) (response, error) {
	if r.param("host") != "" {
		if err := a.checkHost(r); err != nil {
			return response{}, err
		}
	}
	s := r.param("event")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return response{}, notFound("event", s)
	}
	e, found := a.eng.Events().ByID(id)
	if !found {
		return response{}, notFound("event", s)
	}
	return ok(xmlapi.Event(a.ctx(), eventView(e))), nil
}

func eventView(e engine.Event) xmlapi.EventView {
	return xmlapi.EventView{ID: e.ID, Code: eventType(e.Code), Name: e.Code, Severity: e.Severity, Description: e.Description, Time: e.Time}
}

// eventFields resolves the engine's event search fields: type (the
// numeric code), name (hostnetd's code), severity, message, time, and the
// host (host, host.name) with the one data center and cluster.
func eventFields(e engine.Event, host string) search.Fields {
	return func(field string) (string, bool) {
		switch field {
		case "type":
			return strconv.Itoa(eventType(e.Code)), true
		case "name":
			return e.Code, true
		case "severity":
			return e.Severity, true
		case "message", "description":
			return e.Description, true
		case "time":
			return e.Time.Format(time.RFC3339), true
		case "host", "host.name":
			return host, true
		}
		return engineScope(field)
	}
}
