package agent

// eventTypes gives each event hostnetd records a number, its type, as an
// engine numbers its events (AuditLogType): the SDKs read an event's code
// as an integer, and the engine's search selects events by type=N.
// hostnetd's numbers start at 20000, away from the engine's; the name
// (the event's name element) says the same in words. A transaction rolled
// back is named by its cause's fault code.
var eventTypes = map[string]int{
	"HOSTNETD_STARTED":          20009,
	"NETWORK_CHANGE_APPLIED":    20001,
	"NETWORK_OUT_OF_SYNC":       20002,
	"NETWORK_IN_SYNC":           20003,
	"ROLLBACK_FAILED":           20004,
	"DHCP_LEASE_ACQUIRED":       20005,
	"DHCP_LEASE_LOST":           20006,
	"DHCP_ADDRESS_CONFLICT":     20007,
	"UNMANAGED_NETWORK_REMOVED": 20008,
	"FAILED_IFUP":               20010,
	"LOST_CONNECTION":           20011,
	"SHUTTING_DOWN":             20012,
	"INTERNAL_ERROR":            20013,
}

// eventTypeOther is the type of an event whose name has no number of its
// own: a transaction rolled back for any other cause.
const eventTypeOther = 20000

func eventType(name string) int {
	if n, ok := eventTypes[name]; ok {
		return n
	}
	return eventTypeOther
}
