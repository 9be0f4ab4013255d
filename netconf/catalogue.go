package netconf

import (
	"fmt"
	"slices"
)

// The rules of the network catalogue and of labels, which the engine
// checks under the writer slot when the catalogue changes.

// NotFoundError says a change names something that does not exist.
type NotFoundError struct{ What, ID string }

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %q does not exist", e.What, e.ID) }

func bareConflict(code, format string, args ...any) *RuleError {
	return &RuleError{Code: code, Conflict: true, Bare: true, Msg: fmt.Sprintf(format, args...)}
}

// CheckNetworkNames refuses a catalogue in which two networks share a name.
func CheckNetworkNames(nets []*Network) error {
	names := make(map[string]bool, len(nets))
	for _, n := range nets {
		if names[n.Name] {
			return bareConflict(CodeNetworkNameInUse, "a network named %q exists", n.Name)
		}
		names[n.Name] = true
	}
	return nil
}

// AddNetwork is the catalogue with a new network made of ch.
func AddNetwork(nets []*Network, id string, ch NetworkChange) ([]*Network, *Network, error) {
	if slices.ContainsFunc(nets, func(n *Network) bool { return n.ID == id }) {
		return nil, nil, bareConflict(CodeNetworkNameInUse, "a network with id %s exists", id)
	}
	n, err := ApplyNetworkChange(nil, id, ch)
	if err != nil {
		return nil, nil, err
	}
	return append(slices.Clone(nets), n), n, nil
}

// UpdateNetwork is the catalogue with cur changed by ch. Giving an
// attached network the default_route usage takes it from every other
// network, in the same transaction. (Attaching a second owner in a
// request is refused: BAD_PARAMS_MULTIPLE_DEFAULT_ROUTE.)
func UpdateNetwork(nets []*Network, running *Config, cur *Network, ch NetworkChange) ([]*Network, *Network, error) {
	n, err := ApplyNetworkChange(cur, cur.ID, ch)
	if err != nil {
		return nil, nil, err
	}
	out := slices.Clone(nets)
	out[slices.Index(nets, cur)] = n
	if slices.ContainsFunc(running.Attachments, func(at Attachment) bool { return at.NetworkID == n.ID }) {
		out = demoteDefaultRoute(out, n)
	}
	return out, n, nil
}

// demoteDefaultRoute takes the default_route usage away from every network
// but owner when owner has it.
func demoteDefaultRoute(nets []*Network, owner *Network) []*Network {
	if !owner.HasUsage(UsageDefaultRoute) {
		return nets
	}
	for i, n := range nets {
		if n != owner && n.HasUsage(UsageDefaultRoute) {
			c := *n
			c.Usages = slices.DeleteFunc(slices.Clone(n.Usages), func(u string) bool { return u == UsageDefaultRoute })
			nets[i] = &c
		}
	}
	return nets
}

// RemoveNetwork is the catalogue without cur, which must not be attached.
func RemoveNetwork(nets []*Network, running *Config, cur *Network) ([]*Network, error) {
	for _, at := range running.Attachments {
		if at.NetworkID == cur.ID {
			return nil, bareConflict(CodeNetworkInUse, "network %s is attached to %s; detach it first", cur.Name, at.Nic)
		}
	}
	return slices.DeleteFunc(slices.Clone(nets), func(n *Network) bool { return n == cur }), nil
}

// CheckNicLabel refuses what the engine's LabelNic refuses, where a
// setupnetworks would move: a label another interface has, and a network
// with that label attached to another interface.
func CheckNicLabel(nets []*Network, running *Config, nic, label string) error {
	for _, l := range running.Labels {
		if l.Label == label && l.Nic != nic {
			return bareConflict(CodeOtherInterfaceLabeled, "label %s is on %s already", label, l.Nic)
		}
	}
	for _, at := range running.Attachments {
		i := slices.IndexFunc(nets, func(n *Network) bool { return n.ID == at.NetworkID })
		if i >= 0 && nets[i].Label == label && at.Nic != nic {
			return bareConflict(CodeLabeledNetworkWrongNic, "network %s, labelled %s, is attached to %s; detach it to label %s", nets[i].Name, label, at.Nic, nic)
		}
	}
	return nil
}

// LabelNetwork is the catalogue with the network netID labelled label (""
// removes its label), and the request that attaches it to the NIC
// carrying the new label or detaches it from the one carrying the old.
func LabelNetwork(nets []*Network, running *Config, netID, label string) ([]*Network, ChangeSet, error) {
	i := slices.IndexFunc(nets, func(n *Network) bool { return n.ID == netID })
	if i < 0 {
		return nil, ChangeSet{}, &NotFoundError{What: "network", ID: netID}
	}
	cur := nets[i]
	if label != "" && cur.Label != "" {
		return nil, ChangeSet{}, bareConflict(CodeNetworkAlreadyLabeled, "network %s already has label %s; remove it first", cur.Name, cur.Label)
	}
	n := *cur
	n.Label = label
	next := slices.Clone(nets)
	next[i] = &n
	attachedTo := ""
	for _, at := range running.Attachments {
		if at.NetworkID == netID {
			attachedTo = at.Nic
		}
	}
	var cs ChangeSet
	for _, l := range running.Labels {
		switch {
		case label != "" && l.Label == label && attachedTo != l.Nic:
			cs.ModifiedAttachments = append(cs.ModifiedAttachments, AttachmentChange{Network: &Ref{ID: netID}, Nic: &Ref{Name: l.Nic}})
		case label == "" && l.Label == cur.Label && attachedTo == l.Nic:
			cs.RemovedAttachments = append(cs.RemovedAttachments, AttachmentRef{Network: Ref{ID: netID}})
		}
	}
	return next, cs, nil
}

// SameCatalogue reports whether a and b are the same catalogue: the same
// slice, since a catalogue is replaced whole, never modified in place, so
// comparing it costs nothing at any size.
func SameCatalogue(a, b []*Network) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
