package netconf

import (
	"regexp"
	"slices"
	"strings"
)

// Label rule codes, the engine's.
const (
	CodeLabelFormatInvalid         = "NETWORK_LABEL_FORMAT_INVALID"
	CodeLabelDuplicate             = "PARAMS_CONTAIN_DUPLICATE_LABELS"
	CodeLabelNotOnHost             = "LABEL_NOT_EXIST_IN_HOST"
	CodeLabelNicNotExists          = "INTERFACE_ON_NIC_LABEL_NOT_EXIST"
	CodeLabelNicsIncoherent        = "NIC_LABEL_REFERENCES_NICS_INCOHERENTLY"
	CodeLabelOnImproperInterface   = "LABEL_ATTACH_TO_IMPROPER_INTERFACE"
	CodeNetworkAlreadyLabeled      = "NETWORK_ALREADY_LABELED"
	CodeLabeledNetworkElsewhere    = "NETWORK_SHOULD_BE_ATTACHED_VIA_LABEL_TO_ANOTHER_NIC"
	CodeCannotRemoveLabeledNetwork = "ACTION_TYPE_FAILED_CANNOT_REMOVE_LABELED_NETWORK_FROM_NIC"
	CodeOtherInterfaceLabeled      = "OTHER_INTERFACE_ALREADY_LABELED"
	CodeLabeledNetworkWrongNic     = "LABELED_NETWORK_ATTACHED_TO_WRONG_INTERFACE"
)

// NicLabel is a network label on a NIC or bond of the host: every network
// of the catalogue with that label is attached to it.
type NicLabel struct {
	Label string
	Nic   string
}

// LabelChange puts a label on a NIC or bond (modified_labels), moving it
// from the one that has it.
type LabelChange struct {
	Label string
	Nic   Ref
}

var labelFormat = regexp.MustCompile(`^\w+$`)

// CheckLabel checks a label's format, the engine's: letters, digits and _.
func CheckLabel(label string) error {
	if !labelFormat.MatchString(label) {
		return ruleErr(CodeLabelFormatInvalid, "network label %q may hold only letters, digits and _", label)
	}
	return nil
}

// LabelInput is what ExpandLabels needs besides the request.
type LabelInput struct {
	Request  ChangeSet
	Running  *Config
	Networks []*Network
	// NicName resolves a NIC or bond id to its name.
	NicName func(id string) (string, bool)
	// NicExists tells whether a NIC or bond of that name exists, in the
	// kernel or among the request's bonds.
	NicExists func(name string) bool
}

// ExpandLabels turns a request's label changes into the attachment
// changes they imply, as the engine does: a label put on a NIC attaches
// every network with that label to it (moving it there if it is attached
// elsewhere); a label removed detaches the labelled networks from the NIC
// that had it. What the request itself says of a network wins. It returns
// the request with those changes added and the host's labels afterwards,
// sorted by label; labels on bonds the request removes go with them.
func ExpandLabels(in LabelInput) (ChangeSet, []NicLabel, error) {
	cs := in.Request
	if len(cs.ModifiedLabels) == 0 && len(cs.RemovedLabels) == 0 && len(cs.RemovedBonds) == 0 {
		return cs, slices.Clone(in.Running.Labels), nil
	}
	labels := map[string]string{}
	for _, l := range in.Running.Labels {
		labels[l.Label] = l.Nic
	}
	// The networks the request names itself, by id or name, or through
	// the id of their attachment.
	named := map[string]bool{}
	byAttachment := map[string]string{}
	for _, at := range in.Running.Attachments {
		byAttachment[at.ID] = at.NetworkID
	}
	name := func(id string, network *Ref) {
		named[byAttachment[id]] = true
		if network != nil {
			named[network.ID], named[network.Name] = true, true
		}
	}
	for _, ac := range cs.ModifiedAttachments {
		name(ac.ID, ac.Network)
	}
	for _, r := range cs.RemovedAttachments {
		name(r.ID, &r.Network)
	}
	delete(named, "")
	attachedTo := map[string]string{} // network id → NIC
	for _, at := range in.Running.Attachments {
		attachedTo[at.NetworkID] = at.Nic
	}
	labelled := func(label string) []*Network {
		var out []*Network
		for _, n := range in.Networks {
			if n.Label == label && !named[n.ID] && !named[n.Name] {
				out = append(out, n)
			}
		}
		return out
	}
	seen := map[string]bool{}
	for _, label := range cs.RemovedLabels {
		if seen[label] {
			return cs, nil, ruleErr(CodeLabelDuplicate, "label %s is named twice", label)
		}
		seen[label] = true
	}
	for _, lc := range cs.ModifiedLabels {
		if seen[lc.Label] {
			return cs, nil, ruleErr(CodeLabelDuplicate, "label %s is named twice", lc.Label)
		}
		seen[lc.Label] = true
	}
	for _, label := range cs.RemovedLabels {
		nic, ok := labels[label]
		if !ok {
			return cs, nil, ruleErr(CodeLabelNotOnHost, "label %s is not on any interface of the host", label)
		}
		delete(labels, label)
		for _, n := range labelled(label) {
			if attachedTo[n.ID] == nic {
				cs.RemovedAttachments = append(cs.RemovedAttachments, AttachmentRef{Network: Ref{ID: n.ID}})
			}
		}
	}
	for _, lc := range cs.ModifiedLabels {
		if err := CheckLabel(lc.Label); err != nil {
			return cs, nil, err
		}
		nic, err := labelNic(in, lc)
		if err != nil {
			return cs, nil, err
		}
		labels[lc.Label] = nic
		for _, n := range labelled(lc.Label) {
			if attachedTo[n.ID] != nic {
				cs.ModifiedAttachments = append(cs.ModifiedAttachments, AttachmentChange{Network: &Ref{ID: n.ID}, Nic: &Ref{Name: nic}})
			}
		}
	}
	for _, b := range cs.RemovedBonds {
		for label, nic := range labels {
			if nic == b.Name || b.ID != "" && in.NicName != nil && nicNameIs(in, b.ID, nic) {
				delete(labels, label)
			}
		}
	}
	out := make([]NicLabel, 0, len(labels))
	for label, nic := range labels {
		out = append(out, NicLabel{Label: label, Nic: nic})
	}
	slices.SortFunc(out, func(a, b NicLabel) int { return strings.Compare(a.Label, b.Label) })
	return cs, out, nil
}

func nicNameIs(in LabelInput, id, name string) bool {
	n, ok := in.NicName(id)
	return ok && n == name
}

// labelNic resolves the NIC a label goes on: by id, by name, or both when
// they agree.
func labelNic(in LabelInput, lc LabelChange) (string, error) {
	name := lc.Nic.Name
	if lc.Nic.ID != "" {
		n, ok := in.NicName(lc.Nic.ID)
		if !ok {
			return "", ruleErr(CodeLabelNicNotExists, "label %s: interface %s does not exist", lc.Label, lc.Nic.ID)
		}
		if name != "" && name != n {
			return "", ruleErr(CodeLabelNicsIncoherent, "label %s names interface %s by id and %s by name", lc.Label, n, name)
		}
		name = n
	}
	if name == "" || !in.NicExists(name) {
		return "", ruleErr(CodeLabelNicNotExists, "label %s: interface %q does not exist", lc.Label, name)
	}
	return name, nil
}

// CheckLabels checks the labels of a merged configuration against its
// attachments, as the engine's setupnetworks validation: a label may be on
// a NIC or a bond, not on a bond's slave nor a VLAN device; a labelled
// network must be attached to the interface carrying its label, not to
// another (NETWORK_SHOULD_BE_ATTACHED_VIA_LABEL_TO_ANOTHER_NIC) and not
// detached while the label stays (…CANNOT_REMOVE_LABELED_NETWORK_FROM_NIC).
func CheckLabels(labels []NicLabel, cfg *Config, nets []*Network, st *State) error {
	nicOf := map[string]string{}
	for _, l := range labels {
		for _, b := range cfg.Bonds {
			if slices.Contains(b.Slaves, l.Nic) {
				return ruleErr(CodeLabelOnImproperInterface, "label %s is on %s, a slave of bond %s", l.Label, l.Nic, b.Name)
			}
		}
		if link, ok := st.Link(l.Nic); ok && link.Kind == KindVLAN {
			return ruleErr(CodeLabelOnImproperInterface, "label %s is on %s, a VLAN device", l.Label, l.Nic)
		}
		nicOf[l.Label] = l.Nic
	}
	attachedTo := make(map[string]string, len(cfg.Attachments))
	for _, at := range cfg.Attachments {
		attachedTo[at.NetworkID] = at.Nic
	}
	for _, n := range nets {
		nic, labelled := nicOf[n.Label]
		if n.Label == "" || !labelled {
			continue
		}
		switch at, attached := attachedTo[n.ID]; {
		case !attached:
			return ruleErr(CodeCannotRemoveLabeledNetwork, "network %s is attached to %s by its label %s; remove the label from %s to detach it", n.Name, nic, n.Label, nic)
		case at != nic:
			return ruleErr(CodeLabeledNetworkElsewhere, "network %s cannot be attached to %s: its label %s puts it on %s", n.Name, at, n.Label, nic)
		}
	}
	return nil
}
