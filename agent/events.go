package agent

import (
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"

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

// newest returns up to max events whose id is above from, newest first
// (all when max < 0).
func (l *eventLog) newest(max int, from int64) []event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []event
	for i := len(l.events) - 1; i >= 0 && l.events[i].ID > from && (max < 0 || len(out) < max); i-- {
		out = append(out, l.events[i])
	}
	return out
}

// listEvents is GET /hosts/{id}/events, with oVirt's max=N and from=ID
// (only the events after that one: how a client follows the log).
func (a *Agent) listEvents(r *request) (response, error) {
	if err := a.checkHost(r); err != nil {
		return response{}, err
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
	n := xmlapi.Elem("events")
	for _, e := range a.events.newest(limit, from) {
		id := strconv.FormatInt(e.ID, 10)
		item := xmlapi.Elem("event",
			xmlapi.Text("description", e.Description),
			xmlapi.Text("code", e.Code),
			xmlapi.Text("severity", e.Severity),
			xmlapi.Text("time", e.Time.Format(time.RFC3339Nano)),
			xmlapi.Ref("host", a.hostID, xmlapi.Prefix+"/hosts/"+a.hostID),
		).WithID(id, xmlapi.Prefix+"/hosts/"+a.hostID+"/events/"+id)
		item.Repeated = true
		n.Add(item)
	}
	return ok(n), nil
}
