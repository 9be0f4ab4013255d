package netconf

// NetworksByID indexes a catalogue, for lookups per attachment.
func NetworksByID(nets []*Network) map[string]*Network {
	out := make(map[string]*Network, len(nets))
	for _, n := range nets {
		out[n.ID] = n
	}
	return out
}

// AttachmentReported is how an attachment compares with the kernel: its
// drift and its devices' link state.
func AttachmentReported(drift *DriftCache, at Attachment, net *Network, st *State) []Reported {
	r := drift.AttachmentDrift(at, net)
	if ls, down := LinkStateDrift(at, net, st); down {
		r = append(r, ls)
	}
	return r
}

// PendingReported is how a pending attachment is reported beside its
// drift: its NIC is missing.
func PendingReported(at Attachment) Reported {
	return Reported{Name: "host_nic", Expected: at.Nic, Actual: "missing"}
}
