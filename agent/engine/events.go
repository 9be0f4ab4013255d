package engine

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"
)

// maxEvents bounds the events kept in memory; older ones are dropped.
const maxEvents = 1000

// Event is one thing that happened to the host's network, in oVirt's event
// shape: an increasing id, a time, a severity and a description.
type Event struct {
	ID          int64
	Time        time.Time
	Severity    string // normal, warning, error
	Code        string // hostnetd's stable event code
	Description string
}

// EventLog is a bounded in-memory log of events, newest last.
type EventLog struct {
	log *zap.Logger
	// mu guards the fields that follow.
	mu     sync.Mutex
	next   int64
	events []Event
}

// record appends an event and logs it with the same content.
func (l *EventLog) record(severity, code, description string) {
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
func (l *EventLog) add(severity, code, description string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.next++
	l.events = append(l.events, Event{ID: l.next, Time: time.Now().UTC(), Severity: severity, Code: code, Description: description})
	if len(l.events) > maxEvents {
		l.events = l.events[len(l.events)-maxEvents:]
	}
}

// Newest returns up to max events whose id is above from and that keep
// says to keep, newest first (all when max < 0).
func (l *EventLog) Newest(max int, from int64, keep func(Event) bool) []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Event
	for i := len(l.events) - 1; i >= 0 && l.events[i].ID > from && (max < 0 || len(out) < max); i-- {
		if keep(l.events[i]) {
			out = append(out, l.events[i])
		}
	}
	return out
}

// ByID returns the event of that id, if it is still kept.
func (l *EventLog) ByID(id int64) (Event, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i, found := slices.BinarySearchFunc(l.events, id, func(e Event, id int64) int { return cmp.Compare(e.ID, id) })
	if !found {
		return Event{}, false
	}
	return l.events[i], true
}
