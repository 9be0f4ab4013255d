package agent

import (
	"cmp"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/agent/internal/search"
	"github.com/hostnetd/hostnetd/xmlapi"
)

// maxEvents bounds the events kept in memory; older ones are dropped.
const maxEvents = 1000

// event is one thing that happened to the host's network, in oVirt's event
// shape: an increasing id, a time, a severity and a description.
type event struct {
	ID          int64
	Time        time.Time
	Severity    string // normal, warning, error
	Code        string // hostnetd's stable event code
	Description string
}

// eventLog is a bounded in-memory log of events, newest last.
type eventLog struct {
	log *zap.Logger
	// mu guards the fields that follow.
	mu     sync.Mutex
	next   int64
	events []event
}

// record appends an event and logs it with the same content.
func (l *eventLog) record(severity, code, description string) {
	l.add(severity, code, description)
	fields := []zap.Field{zap.String("event", code), zap.String("severity", severity)}
	switch severity {
	case "error":
		l.log.Error(description, fields...)
	case "warning":
		l.log.Warn(description, fields...)
	default:
		l.log.Info(description, fields...)
	}
}

// add appends an event without logging it: a transaction's events, which
// its one log line already tells (txlog.go).
func (l *eventLog) add(severity, code, description string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.next++
	l.events = append(l.events, event{ID: l.next, Time: time.Now().UTC(), Severity: severity, Code: code, Description: description})
	if len(l.events) > maxEvents {
		l.events = l.events[len(l.events)-maxEvents:]
	}
}

// newest returns up to max events whose id is above from and that keep
// says to keep, newest first (all when max < 0).
func (l *eventLog) newest(max int, from int64, keep func(event) bool) []event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []event
	for i := len(l.events) - 1; i >= 0 && l.events[i].ID > from && (max < 0 || len(out) < max); i-- {
		if keep(l.events[i]) {
			out = append(out, l.events[i])
		}
	}
	return out
}

// byID returns the event of that id, if it is still kept.
func (l *eventLog) byID(id int64) (event, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i, found := slices.BinarySearchFunc(l.events, id, func(e event, id int64) int { return cmp.Compare(e.ID, id) })
	if !found {
		return event{}, false
	}
	return l.events[i], true
}

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
	keep := func(e event) bool { return q.Match(eventFields(e, host), caseSensitive) }
	var views []xmlapi.EventView
	for _, e := range a.events.newest(limit, from, keep) {
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
	e, found := a.events.byID(id)
	if !found {
		return response{}, notFound("event", s)
	}
	return ok(xmlapi.Event(a.ctx(), eventView(e))), nil
}

func eventView(e event) xmlapi.EventView {
	return xmlapi.EventView{ID: e.ID, Code: eventType(e.Code), Name: e.Code, Severity: e.Severity, Description: e.Description, Time: e.Time}
}

// eventFields resolves the engine's event search fields: type (the
// numeric code), name (hostnetd's code), severity, message, time, and the
// host (host, host.name) with the one data center and cluster.
func eventFields(e event, host string) search.Fields {
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
