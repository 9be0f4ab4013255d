package agent

import (
	"net/http"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/xmlapi"
)

// listedLinks are the interfaces the API reports: every one but loopback.
func listedLinks(st *netconf.State) []*netconf.Link {
	links := make([]*netconf.Link, 0, len(st.Links))
	for i := range st.Links {
		if st.Links[i].Name != "lo" {
			links = append(links, &st.Links[i])
		}
	}
	return links
}

func (a *Agent) listNics(r *request) (response, error) {
	if err := a.checkHost(r); err != nil {
		return response{}, err
	}
	limit, err := maxParam(r)
	if err != nil {
		return response{}, err
	}
	st, err := a.eng.State()
	if err != nil {
		return response{}, err
	}
	links := listedLinks(st)
	if limit >= 0 && limit < len(links) {
		links = links[:limit]
	}
	// Rendered as it is written: built whole first, the answer for a
	// thousand VLAN networks was 7 MB of garbage, the tail of its latency.
	return response{status: http.StatusOK, list: xmlapi.HostNicList(a.nicCtx(st), st, links)}, nil
}

// findNic resolves a NIC path parameter, which may be the stable id or the
// device name.
func (a *Agent) findNic(r *request) (*netconf.State, *netconf.Link, error) {
	if err := a.checkHost(r); err != nil {
		return nil, nil, err
	}
	st, err := a.eng.State()
	if err != nil {
		return nil, nil, err
	}
	key := r.param("nic")
	for _, l := range listedLinks(st) {
		if l.Name == key || a.nicIDs.id(l.Name) == key {
			return st, l, nil
		}
	}
	return nil, nil, notFound("host_nic", key)
}

func (a *Agent) getNic(r *request) (response, error) {
	st, l, err := a.findNic(r)
	if err != nil {
		return response{}, err
	}
	return ok(xmlapi.HostNic(a.nicCtx(st), st, l)), nil
}

func (a *Agent) getNicStatistics(r *request) (response, error) {
	_, l, err := a.findNic(r)
	if err != nil {
		return response{}, err
	}
	// Counters change without notifications: they are read live.
	live := *l
	if live.Stats, err = a.eng.LinkStats(l.Name); err != nil {
		return response{}, err
	}
	return ok(xmlapi.Statistics(a.ctx(), &live)), nil
}

// nicCtx is the rendering context of NICs: custom_configuration is true on
// an interface that carries a network which drifted from its configuration.
func (a *Agent) nicCtx(st *netconf.State) xmlapi.Context {
	c := a.ctx()
	_, running := a.eng.Snapshot()
	// One pass over the attachments: looking each drifted one up among
	// them would be quadratic when many drift (a NIC's MTU changed under
	// a thousand VLANs).
	out := a.eng.Drifted(st)
	drifted := map[string]bool{}
	for _, at := range running.Attachments {
		if _, ok := out[at.ID]; ok {
			drifted[at.Nic] = true
		}
	}
	c.NicOutOfSync = func(name string) bool { return drifted[name] }
	return c
}
