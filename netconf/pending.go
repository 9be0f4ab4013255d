package netconf

import "slices"

// Pending attachments. An attachment of the running configuration whose
// NIC is not in the kernel (late at boot, or unplugged) is pending: it
// stays in the running configuration, and so in what a commit makes
// persistent, but no plan touches it, and a request that does not name it
// is validated and applied without it, so that one missing NIC blocks no
// other change. It is reported out of sync (host_nic: expected the NIC,
// actual "missing"). When the NIC appears, the engine applies it, as a
// synchronisation of it.

// PendingOf lists the attachments of cfg whose NIC is neither a link of st
// nor a bond of cfg.
func PendingOf(cfg *Config, st *State) []Attachment {
	var out []Attachment
	for _, at := range cfg.Attachments {
		if _, ok := st.Link(at.Nic); ok {
			continue
		}
		if slices.ContainsFunc(cfg.Bonds, func(b BondConfig) bool { return b.Name == at.Nic }) {
			continue
		}
		out = append(out, at)
	}
	return out
}

// Effective is cfg without its pending attachments: what the kernel can
// run. It is cfg itself when nothing is pending.
func Effective(cfg *Config, st *State) *Config {
	pending := PendingOf(cfg, st)
	if len(pending) == 0 {
		return cfg
	}
	out := cfg.Clone()
	out.Attachments = slices.DeleteFunc(out.Attachments, func(at Attachment) bool {
		return slices.ContainsFunc(pending, func(p Attachment) bool { return p.ID == at.ID })
	})
	return out
}

// SplitPending prepares a request for merging into a running configuration
// with pending attachments: the running configuration to merge into is
// the effective one plus the pending attachments the request names (it
// removes or modifies them: their rules apply), the request loses the
// synchronisations of the others (a missing NIC cannot be synchronised),
// and kept are the pending attachments to carry over unchanged.
func SplitPending(req ChangeSet, running *Config, nets []*Network, st *State) (ChangeSet, *Config, []Attachment) {
	pending := PendingOf(running, st)
	if len(pending) == 0 {
		return req, running, nil
	}
	byRef := func(r Ref) string { // network id of a reference, or ""
		for _, n := range nets {
			if r.ID != "" && n.ID == r.ID || r.ID == "" && r.Name != "" && n.Name == r.Name {
				return n.ID
			}
		}
		return ""
	}
	named := func(at Attachment) bool {
		for _, r := range req.RemovedAttachments {
			if r.ID == at.ID || r.ID == "" && byRef(r.Network) == at.NetworkID {
				return true
			}
		}
		for _, m := range req.ModifiedAttachments {
			if m.ID == at.ID || m.ID == "" && m.Network != nil && byRef(*m.Network) == at.NetworkID {
				return true
			}
		}
		return false
	}
	var kept []Attachment
	base := running.Clone()
	base.Attachments = base.Attachments[:0]
	for _, at := range running.Attachments {
		if slices.ContainsFunc(pending, func(p Attachment) bool { return p.ID == at.ID }) && !named(at) {
			kept = append(kept, at)
			continue
		}
		base.Attachments = append(base.Attachments, at)
	}
	req.SyncedAttachments = slices.DeleteFunc(slices.Clone(req.SyncedAttachments), func(id string) bool {
		return slices.ContainsFunc(kept, func(p Attachment) bool { return p.ID == id })
	})
	return req, base, kept
}

// WithPending puts the pending attachments kept back into a merged
// configuration, unless the request attached their network elsewhere, in
// the order of the running configuration (new attachments last), so that
// a request that changes nothing leaves an equal configuration.
func WithPending(cfg *Config, kept []Attachment, running *Config) *Config {
	if len(kept) == 0 {
		return cfg
	}
	out := cfg.Clone()
	for _, at := range kept {
		if !slices.ContainsFunc(out.Attachments, func(o Attachment) bool { return o.NetworkID == at.NetworkID }) {
			out.Attachments = append(out.Attachments, at)
		}
	}
	pos := func(id string) int {
		if i := slices.IndexFunc(running.Attachments, func(o Attachment) bool { return o.ID == id }); i >= 0 {
			return i
		}
		return len(running.Attachments)
	}
	slices.SortStableFunc(out.Attachments, func(a, b Attachment) int { return pos(a.ID) - pos(b.ID) })
	return out
}
