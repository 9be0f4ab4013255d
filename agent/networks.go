package agent

import (
	"context"
	"net/http"
	"slices"
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
	nets, _ := a.snapshot()
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
	if n := a.networkByID(id); n != nil {
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
	_, err = a.updateCatalogue(r.Context(), func(nets []*netconf.Network) ([]*netconf.Network, error) {
		if a.networkByID(id) != nil {
			return nil, newFault(http.StatusConflict, netconf.CodeNetworkNameInUse, "Operation Failed", "a network with id %s exists", id)
		}
		n, err := netconf.ApplyNetworkChange(nil, id, ch)
		if err != nil {
			return nil, ruleFault(err)
		}
		created = n
		return append(slices.Clone(nets), n), nil
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
	writes, err := a.updateCatalogue(r.Context(), func(nets []*netconf.Network) ([]*netconf.Network, error) {
		n, err := netconf.ApplyNetworkChange(cur, cur.ID, ch)
		if err != nil {
			return nil, ruleFault(err)
		}
		updated = n
		out := slices.Clone(nets)
		out[slices.Index(nets, cur)] = n
		if a.isAttached(n.ID) {
			out = demoteDefaultRoute(out, n)
		}
		return out, nil
	})
	if err != nil {
		return response{}, err
	}
	return response{status: http.StatusOK, doc: xmlapi.NetworkNode(updated), writes: writes}, nil
}

func (a *Agent) deleteNetwork(r *request) (response, error) {
	cur, err := a.findNetwork(r)
	if err != nil {
		return response{}, err
	}
	_, err = a.updateCatalogue(r.Context(), func(nets []*netconf.Network) ([]*netconf.Network, error) {
		_, running := a.snapshot()
		for _, at := range running.Attachments {
			if at.NetworkID == cur.ID {
				return nil, newFault(http.StatusConflict, netconf.CodeNetworkInUse, "Operation Failed",
					"network %s is attached to %s; detach it first", cur.Name, at.Nic)
			}
		}
		return slices.DeleteFunc(slices.Clone(nets), func(n *netconf.Network) bool { return n == cur }), nil
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

// updateCatalogue changes the network catalogue. Names stay unique. A
// change that touches no attached network is stored at once; one that does
// goes through a transaction, which re-applies the attachments.
func (a *Agent) updateCatalogue(ctx context.Context, edit func([]*netconf.Network) ([]*netconf.Network, error)) (int, error) {
	unlock, err := a.lockWriter(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	nets, running := a.snapshot()
	next, err := edit(nets)
	if err != nil {
		return 0, err
	}
	names := map[string]bool{}
	for _, n := range next {
		if names[n.Name] {
			return 0, newFault(http.StatusConflict, netconf.CodeNetworkNameInUse, "Operation Failed", "a network named %q exists", n.Name)
		}
		names[n.Name] = true
	}
	if len(running.Attachments) > 0 {
		res, err := a.transactLocked(ctx, change{networks: next})
		return res.Writes, err
	}
	return 0, a.commitRunning(running, next)
}

// demoteDefaultRoute takes the default_route usage away from every network
// but owner when owner has it: giving the host's default route to an
// attached network moves it there, in the same transaction. (Attaching a
// second owner in a request is refused: BAD_PARAMS_MULTIPLE_DEFAULT_ROUTE.)
func demoteDefaultRoute(nets []*netconf.Network, owner *netconf.Network) []*netconf.Network {
	if !owner.HasUsage(netconf.UsageDefaultRoute) {
		return nets
	}
	for i, n := range nets {
		if n != owner && n.HasUsage(netconf.UsageDefaultRoute) {
			c := *n
			c.Usages = slices.DeleteFunc(slices.Clone(n.Usages), func(u string) bool { return u == netconf.UsageDefaultRoute })
			nets[i] = &c
		}
	}
	return nets
}

func (a *Agent) isAttached(networkID string) bool {
	_, running := a.snapshot()
	return slices.ContainsFunc(running.Attachments, func(at netconf.Attachment) bool { return at.NetworkID == networkID })
}
