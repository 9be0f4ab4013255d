package agent

import (
	"net/http"
	"slices"

	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/xmlapi"
)

// attachmentViews lists the running attachments, optionally those on one
// NIC, with their networks and, when st is given, how each compares with
// the kernel.
func (a *Agent) attachmentViews(nic string, st *netconf.State) []xmlapi.AttachmentView {
	nets, running := a.eng.Snapshot()
	var out []xmlapi.AttachmentView
	byID := netconf.NetworksByID(nets)
	drift := netconf.NewDriftCache(running, st)
	for i := range running.Attachments {
		at := &running.Attachments[i]
		if nic != "" && at.Nic != nic {
			continue
		}
		net := byID[at.NetworkID]
		if net == nil {
			continue
		}
		v := xmlapi.AttachmentView{Attachment: at, Network: net}
		if st != nil {
			v.Reported = netconf.AttachmentReported(drift, *at, net, st)
			if _, ok := st.Link(at.Nic); !ok && !slices.ContainsFunc(running.Bonds, func(b netconf.BondConfig) bool { return b.Name == at.Nic }) {
				v.Reported = append([]netconf.Reported{netconf.PendingReported(*at)}, v.Reported...)
			}
		}
		out = append(out, v)
	}
	return out
}

// nicScope resolves the {nic} of a …/nics/{nic}/networkattachments path to
// a device name (empty for the host-wide collection) and returns the kernel
// state it read, for the caller to reuse.
func (a *Agent) nicScope(r *request) (string, *netconf.State, error) {
	if err := a.checkHost(r); err != nil {
		return "", nil, err
	}
	st, err := a.eng.State()
	if err != nil {
		return "", nil, err
	}
	key := r.param("nic")
	if key == "" {
		return "", st, nil
	}
	if name, ok := a.eng.NicName(st)(key); ok {
		return name, st, nil
	}
	if _, ok := st.Link(key); ok && key != netconf.Loopback {
		return key, st, nil
	}
	return "", nil, notFound("host_nic", key)
}

func (a *Agent) listAttachments(r *request) (response, error) {
	nic, st, err := a.nicScope(r)
	if err != nil {
		return response{}, err
	}
	limit, err := maxParam(r)
	if err != nil {
		return response{}, err
	}
	views := a.attachmentViews(nic, st)
	if limit >= 0 && limit < len(views) {
		views = views[:limit]
	}
	return ok(xmlapi.NetworkAttachments(a.ctx(), views)), nil
}

func (a *Agent) findAttachment(r *request) (xmlapi.AttachmentView, string, error) {
	nic, st, err := a.nicScope(r)
	if err != nil {
		return xmlapi.AttachmentView{}, "", err
	}
	id := r.param("attachment")
	for _, v := range a.attachmentViews(nic, st) {
		if v.Attachment.ID == id {
			return v, nic, nil
		}
	}
	return xmlapi.AttachmentView{}, "", notFound("network_attachment", id)
}

func (a *Agent) getAttachment(r *request) (response, error) {
	v, _, err := a.findAttachment(r)
	if err != nil {
		return response{}, err
	}
	return ok(xmlapi.AttachmentViewNode(a.ctx(), v)), nil
}

func (a *Agent) decodeAttachment(r *request) (netconf.AttachmentChange, error) {
	n, err := parseBody(r, "network_attachment")
	if err != nil {
		return netconf.AttachmentChange{}, err
	}
	ac, err := xmlapi.DecodeNetworkAttachment(n)
	return ac, decodeFault(err)
}

// addAttachment attaches a network: a one-attachment setupnetworks. Under
// …/nics/{nic} the NIC comes from the path.
func (a *Agent) addAttachment(r *request) (response, error) {
	nic, _, err := a.nicScope(r)
	if err != nil {
		return response{}, err
	}
	ac, err := a.decodeAttachment(r)
	if err != nil {
		return response{}, err
	}
	if ac.ID != "" {
		return response{}, badRequest(CodeInvalidValue, "a new attachment takes no id; PUT …/networkattachments/%s changes an existing one", ac.ID)
	}
	if ac.Network == nil || ac.Network.IsZero() {
		return response{}, engine.RuleError(&netconf.RuleError{Code: netconf.CodeAttachmentNetworkNotSet, Msg: "the attachment names no network"})
	}
	if nic != "" {
		ac.Nic = &netconf.Ref{Name: nic}
	}
	ac.Create = true
	res, err := a.eng.Transact(r.Context(), engine.Change{Request: withSync(netconf.ChangeSet{ModifiedAttachments: []netconf.AttachmentChange{ac}})})
	if err != nil {
		return response{}, err
	}
	return a.attachmentResponse(http.StatusCreated, res, ac)
}

func (a *Agent) updateAttachment(r *request) (response, error) {
	cur, nic, err := a.findAttachment(r)
	if err != nil {
		return response{}, err
	}
	ac, err := a.decodeAttachment(r)
	if err != nil {
		return response{}, err
	}
	if ac.ID != "" && ac.ID != cur.Attachment.ID {
		return response{}, badRequest(CodeInvalidValue, "the body names attachment %s, the path %s", ac.ID, cur.Attachment.ID)
	}
	ac.ID = cur.Attachment.ID
	if ac.Nic == nil && nic != "" {
		ac.Nic = &netconf.Ref{Name: nic}
	}
	if r.URL.Query().Has("override_configuration") && r.URL.Query().Get("override_configuration") != "false" {
		ac.Override = true
	}
	res, err := a.eng.Transact(r.Context(), engine.Change{Request: withSync(netconf.ChangeSet{ModifiedAttachments: []netconf.AttachmentChange{ac}})})
	if err != nil {
		return response{}, err
	}
	return a.attachmentResponse(http.StatusOK, res, ac)
}

func (a *Agent) deleteAttachment(r *request) (response, error) {
	cur, _, err := a.findAttachment(r)
	if err != nil {
		return response{}, err
	}
	cs := netconf.ChangeSet{RemovedAttachments: []netconf.AttachmentRef{{ID: cur.Attachment.ID}}}
	res, err := a.eng.Transact(r.Context(), engine.Change{Request: cs})
	if err != nil {
		return response{}, err
	}
	return response{status: http.StatusOK, writes: res.Writes}, nil
}

// withSync lists attachments that ask for override_configuration among the
// synchronised ones, as the engine does.
func withSync(cs netconf.ChangeSet) netconf.ChangeSet {
	for _, ac := range cs.ModifiedAttachments {
		if ac.Override && ac.ID != "" {
			cs.SyncedAttachments = append(cs.SyncedAttachments, ac.ID)
		}
	}
	return cs
}

// attachmentResponse renders the attachment a write created or changed.
func (a *Agent) attachmentResponse(status int, res engine.Result, ac netconf.AttachmentChange) (response, error) {
	nets, _ := a.eng.Snapshot()
	for i := range res.Running.Attachments {
		at := &res.Running.Attachments[i]
		net := nets[slices.IndexFunc(nets, func(n *netconf.Network) bool { return n.ID == at.NetworkID })]
		if at.ID == ac.ID || ac.ID == "" && ac.Network != nil && (net.ID == ac.Network.ID || net.Name == ac.Network.Name) {
			return response{status: status, doc: xmlapi.NetworkAttachmentNode(a.ctx(), at, net), writes: res.Writes}, nil
		}
	}
	return response{status: status, writes: res.Writes}, nil
}
