package agent

import (
	"net/http"
	"strconv"

	"github.com/hostnetd/hostnetd/agent/internal/search"
	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/xmlapi"
)

func (a *Agent) listNetworks(r *request) (response, error) {
	limit, err := maxParam(r)
	if err != nil {
		return response{}, err
	}
	q, caseSensitive, err := searchParams(r)
	if err != nil {
		return response{}, err
	}
	nets, _ := a.eng.Snapshot()
	var out []*netconf.Network
	for _, n := range nets {
		if q.Match(networkFields(n), caseSensitive) {
			out = append(out, n)
		}
	}
	if limit >= 0 && limit < len(out) {
		out = out[:limit]
	}
	return ok(xmlapi.Networks(out)), nil
}

// networkFields resolves the engine's network search fields.
func networkFields(n *netconf.Network) search.Fields {
	return func(field string) (string, bool) {
		switch field {
		case "name":
			return n.Name, true
		case "description":
			return n.Description, true
		case "comment":
			return n.Comment, true
		case "vlanid":
			if n.VLAN == nil {
				return "", true
			}
			return strconv.Itoa(*n.VLAN), true
		case "mtu":
			return strconv.Itoa(n.MTU), true
		case "stp":
			return strconv.FormatBool(n.STP), true
		case "vmnetwork":
			return strconv.FormatBool(n.HasUsage(netconf.UsageVM)), true
		case "label":
			return n.Label, true
		}
		return engineScope(field)
	}
}

func (a *Agent) findNetwork(r *request) (*netconf.Network, error) {
	id := r.param("network")
	if n := a.eng.Network(id); n != nil {
		return n, nil
	}
	return nil, notFound("network", id)
}

func (a *Agent) getNetwork(r *request) (response, error) {
	n, err := a.findNetwork(r)
	if err != nil {
		return response{}, err
	}
	return ok(xmlapi.NetworkNode(n)), nil
}

func (a *Agent) addNetwork(r *request) (response, error) {
	ch, err := a.decodeNetwork(r)
	if err != nil {
		return response{}, err
	}
	id, err := entityID(ch.ID, "network")
	if err != nil {
		return response{}, err
	}
	if ch.Name == nil {
		return response{}, newFault(http.StatusBadRequest, CodeInvalidValue, "Incomplete parameters", "a network needs a name")
	}
	var created *netconf.Network
	_, err = a.eng.EditCatalogue(r.Context(), func(nets []*netconf.Network, _ *netconf.Config) (next []*netconf.Network, _ netconf.ChangeSet, err error) {
		next, created, err = netconf.AddNetwork(nets, id, ch)
		return next, netconf.ChangeSet{}, err
	})
	if err != nil {
		return response{}, err
	}
	return response{status: http.StatusCreated, doc: xmlapi.NetworkNode(created)}, nil
}

func (a *Agent) updateNetwork(r *request) (response, error) {
	cur, err := a.findNetwork(r)
	if err != nil {
		return response{}, err
	}
	ch, err := a.decodeNetwork(r)
	if err != nil {
		return response{}, err
	}
	if ch.ID != "" && ch.ID != cur.ID {
		return response{}, badRequest(CodeInvalidValue, "the body names network %s, the path %s", ch.ID, cur.ID)
	}
	var updated *netconf.Network
	res, err := a.eng.EditCatalogue(r.Context(), func(nets []*netconf.Network, running *netconf.Config) (next []*netconf.Network, _ netconf.ChangeSet, err error) {
		next, updated, err = netconf.UpdateNetwork(nets, running, cur, ch)
		return next, netconf.ChangeSet{}, err
	})
	if err != nil {
		return response{}, err
	}
	return response{status: http.StatusOK, doc: xmlapi.NetworkNode(updated), writes: res.Writes}, nil
}

func (a *Agent) deleteNetwork(r *request) (response, error) {
	cur, err := a.findNetwork(r)
	if err != nil {
		return response{}, err
	}
	_, err = a.eng.EditCatalogue(r.Context(), func(nets []*netconf.Network, running *netconf.Config) ([]*netconf.Network, netconf.ChangeSet, error) {
		next, err := netconf.RemoveNetwork(nets, running, cur)
		return next, netconf.ChangeSet{}, err
	})
	return response{status: http.StatusOK}, err
}

func (a *Agent) decodeNetwork(r *request) (netconf.NetworkChange, error) {
	n, err := parseBody(r, "network")
	if err != nil {
		return netconf.NetworkChange{}, err
	}
	ch, err := xmlapi.DecodeNetwork(n)
	if err != nil {
		return ch, decodeFault(err)
	}
	return ch, a.resolveNetworkQoS(&ch)
}
