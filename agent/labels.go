package agent

import (
	"context"
	"net/http"
	"slices"

	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/xmlapi"
)

// Network labels, with the engine's semantics: a label on a NIC or bond
// (…/nics/{nic}/networklabels, or modified_labels in a setupnetworks)
// attaches every network with that label (/networks/{id}/networklabels)
// to it; removing either detaches. The NIC labels are part of the
// configuration, so they are committed, persisted and restored with it.

// nicLabels lists the labels of the NIC of the path.
func (a *Agent) nicLabels(r *request) (*netconf.Link, []string, error) {
	_, l, err := a.findNic(r)
	if err != nil {
		return nil, nil, err
	}
	_, running := a.eng.Snapshot()
	var labels []string
	for _, nl := range running.Labels {
		if nl.Nic == l.Name {
			labels = append(labels, nl.Label)
		}
	}
	return l, labels, nil
}

func (a *Agent) nicLabelOwner(c xmlapi.Context, nic string) (string, *xmlapi.Node) {
	return c.NicHref(nic), c.NicRef(nic)
}

func (a *Agent) listNicLabels(r *request) (response, error) {
	l, labels, err := a.nicLabels(r)
	if err != nil {
		return response{}, err
	}
	c := a.ctx()
	href, owner := a.nicLabelOwner(c, l.Name)
	return ok(xmlapi.NetworkLabels(c, labels, href, owner)), nil
}

func (a *Agent) getNicLabel(r *request) (response, error) {
	l, labels, err := a.nicLabels(r)
	if err != nil {
		return response{}, err
	}
	label := r.param("label")
	if !slices.Contains(labels, label) {
		return response{}, notFound("network_label", label)
	}
	c := a.ctx()
	href, owner := a.nicLabelOwner(c, l.Name)
	return ok(xmlapi.NetworkLabel(c, label, href, owner)), nil
}

// addNicLabel is POST …/nics/{nic}/networklabels: a setupnetworks with
// the label in modified_labels.
func (a *Agent) addNicLabel(r *request) (response, error) {
	_, l, err := a.findNic(r)
	if err != nil {
		return response{}, err
	}
	label, err := a.decodeLabel(r)
	if err != nil {
		return response{}, err
	}
	if err := a.checkNicLabel(l.Name, label); err != nil {
		return response{}, err
	}
	cs := netconf.ChangeSet{ModifiedLabels: []netconf.LabelChange{{Label: label, Nic: netconf.Ref{Name: l.Name}}}}
	res, err := a.eng.Transact(r.Context(), engine.Change{Request: cs})
	if err != nil {
		return response{}, err
	}
	c := a.ctx()
	href, owner := a.nicLabelOwner(c, l.Name)
	return response{status: http.StatusCreated, doc: xmlapi.NetworkLabel(c, label, href, owner), writes: res.Writes}, nil
}

// checkNicLabel refuses what the engine's LabelNic refuses, where a
// setupnetworks would move: a label another interface has, and a network
// with that label attached to another interface.
func (a *Agent) checkNicLabel(nic, label string) error {
	nets, running := a.eng.Snapshot()
	return engine.RuleError(netconf.CheckNicLabel(nets, running, nic, label))
}

// deleteNicLabel is DELETE …/nics/{nic}/networklabels/{label}: a
// setupnetworks with the label in removed_labels.
func (a *Agent) deleteNicLabel(r *request) (response, error) {
	_, labels, err := a.nicLabels(r)
	if err != nil {
		return response{}, err
	}
	label := r.param("label")
	if !slices.Contains(labels, label) {
		return response{}, notFound("network_label", label)
	}
	res, err := a.eng.Transact(r.Context(), engine.Change{Request: netconf.ChangeSet{RemovedLabels: []string{label}}})
	return response{status: http.StatusOK, writes: res.Writes}, err
}

func (a *Agent) networkLabels(r *request) (*netconf.Network, []string, error) {
	n, err := a.findNetwork(r)
	if err != nil {
		return nil, nil, err
	}
	if n.Label == "" {
		return n, nil, nil
	}
	return n, []string{n.Label}, nil
}

func (a *Agent) listNetworkLabels(r *request) (response, error) {
	n, labels, err := a.networkLabels(r)
	if err != nil {
		return response{}, err
	}
	return ok(xmlapi.NetworkLabels(a.ctx(), labels, xmlapi.NetworkHref(n.ID), xmlapi.NetworkRef(n.ID))), nil
}

func (a *Agent) getNetworkLabel(r *request) (response, error) {
	n, labels, err := a.networkLabels(r)
	if err != nil {
		return response{}, err
	}
	label := r.param("label")
	if !slices.Contains(labels, label) {
		return response{}, notFound("network_label", label)
	}
	return ok(xmlapi.NetworkLabel(a.ctx(), label, xmlapi.NetworkHref(n.ID), xmlapi.NetworkRef(n.ID))), nil
}

// addNetworkLabel is POST /networks/{id}/networklabels: the network takes
// the label (it may have one) and is attached to the NIC that carries it.
func (a *Agent) addNetworkLabel(r *request) (response, error) {
	n, err := a.findNetwork(r)
	if err != nil {
		return response{}, err
	}
	label, err := a.decodeLabel(r)
	if err != nil {
		return response{}, err
	}
	if err := netconf.CheckLabel(label); err != nil {
		return response{}, engine.RuleError(err)
	}
	writes, err := a.labelNetwork(r.Context(), n.ID, label)
	if err != nil {
		return response{}, err
	}
	return response{status: http.StatusCreated, doc: xmlapi.NetworkLabel(a.ctx(), label, xmlapi.NetworkHref(n.ID), xmlapi.NetworkRef(n.ID)), writes: writes}, nil
}

// deleteNetworkLabel is DELETE /networks/{id}/networklabels/{label}: the
// network loses its label and is detached from the NIC that carries it.
func (a *Agent) deleteNetworkLabel(r *request) (response, error) {
	n, labels, err := a.networkLabels(r)
	if err != nil {
		return response{}, err
	}
	if label := r.param("label"); !slices.Contains(labels, label) {
		return response{}, notFound("network_label", label)
	}
	writes, err := a.labelNetwork(r.Context(), n.ID, "")
	return response{status: http.StatusOK, writes: writes}, err
}

// labelNetwork gives a network its label ("" removes it) and, in the same
// transaction, attaches it to the NIC carrying the new label or detaches
// it from the one carrying the old.
func (a *Agent) labelNetwork(ctx context.Context, netID, label string) (int, error) {
	res, err := a.eng.EditCatalogue(ctx, func(nets []*netconf.Network, running *netconf.Config) ([]*netconf.Network, netconf.ChangeSet, error) {
		return netconf.LabelNetwork(nets, running, netID, label)
	})
	return res.Writes, err
}

func (a *Agent) decodeLabel(r *request) (string, error) {
	n, err := parseBody(r, "network_label")
	if err != nil {
		return "", err
	}
	label, err := xmlapi.DecodeNetworkLabel(n)
	return label, decodeFault(err)
}
