package xmlapi

import (
	"strconv"
	"time"
)

// EventView is one event of the host as the API shows it.
type EventView struct {
	ID int64
	// Code is the event's type, a number as the engine's AuditLogType;
	// Name is hostnetd's stable name for it (NETWORK_CHANGE_APPLIED).
	Code        int
	Name        string
	Severity    string // normal, warning, error
	Description string
	Time        time.Time
}

// Events renders an <events> collection.
func Events(c Context, events []EventView) *Node {
	n := Elem("events")
	for _, e := range events {
		item := Event(c, e)
		item.Repeated = true
		n.Add(item)
	}
	return n
}

// Event renders one event, with the engine's fields (a numeric code, the
// index clients follow from, which is its id, the origin, a link to its
// host) and its name.
func Event(c Context, e EventView) *Node {
	id := strconv.FormatInt(e.ID, 10)
	return Elem("event",
		Text("name", e.Name),
		Text("description", e.Description),
		Int("code", int64(e.Code)),
		Int("index", e.ID),
		Text("origin", "hostnetd"),
		Text("severity", e.Severity),
		Time("time", e.Time),
		c.hostRef(),
	).WithID(id, Prefix+"/events/"+id)
}
