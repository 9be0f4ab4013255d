package netconf

import (
	"fmt"
	"strings"
)

// Link state is part of verification and drift: a device the target wants
// up (every device of a configuration) must be administratively up, and
// one it wants down (Down, in snapshots) down. Bond slaves are left out:
// their bond raises them, and no plan sets them up one by one.

// VerifyLinkStates checks the administrative state of the devices of next
// in scope (all when nil) against st; it is VerifyScoped's companion.
func VerifyLinkStates(old, next *Target, st *State, scope []string) error {
	var in map[string]bool
	if scope != nil {
		in = nameSet(CloseScope(scope, old, next))
	}
	var bad []string
	for _, d := range next.Devices {
		if in != nil && !in[d.Name] || isBondSlave(next, d) {
			continue
		}
		l, ok := st.Link(d.Name)
		if !ok {
			continue // VerifyScoped reports it missing
		}
		if l.AdminUp == d.Down {
			bad = append(bad, fmt.Sprintf("%s.state: desired %s, current %s", d.Name, upDown(!d.Down), upDown(l.AdminUp)))
		}
	}
	if len(bad) > 0 {
		return &VerifyError{Mismatches: bad}
	}
	return nil
}

// LinkStateDrift reports the devices of an attachment that are
// administratively down, as a reported_configuration "link_state"
// (expected up); ok is false when there are none. Missing devices are
// the other fields' business.
func LinkStateDrift(a Attachment, net *Network, st *State) (Reported, bool) {
	var down []string
	for _, name := range AttachmentDevices(a, net) {
		if l, ok := st.Link(name); ok && !l.AdminUp && !slaveOfBond(st, l) {
			down = append(down, name)
		}
	}
	if len(down) == 0 {
		return Reported{}, false
	}
	return Reported{Name: "link_state", Expected: "up", Actual: "down: " + strings.Join(down, ",")}, true
}

func isBondSlave(t *Target, d *Device) bool {
	m := t.Device(d.Master)
	return d.Master != "" && m != nil && m.Kind == KindBond
}

func slaveOfBond(st *State, l *Link) bool {
	if l.Master == "" {
		return false
	}
	m, ok := st.Link(l.Master)
	return ok && m.Kind == KindBond
}

func upDown(up bool) string {
	if up {
		return "up"
	}
	return "down"
}
