package agent

import (
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/xmlapi"
)

// Host network QoS over HTTP: the data center (/datacenters), its QoS
// catalogue (/datacenters/{dc}/qoss), kept by the engine, and a network's
// reference into it, resolved here to the entry the network keeps a copy
// of.

// qosRoutes adds the data center and its QoS catalogue to the API.
func (a *Agent) qosRoutes() {
	a.router.handle("datacenters", map[string]handler{http.MethodGet: a.listDataCenters})
	a.router.handle("datacenters/{dc}", map[string]handler{http.MethodGet: a.getDataCenter})
	a.router.handle("datacenters/{dc}/qoss", map[string]handler{http.MethodGet: a.listQoSs, http.MethodPost: a.addQoS})
	a.router.handle("datacenters/{dc}/qoss/{qos}", map[string]handler{
		http.MethodGet: a.getQoS, http.MethodPut: a.updateQoS, http.MethodDelete: a.deleteQoS})
}

func (a *Agent) listDataCenters(r *request) (response, error) {
	q, caseSensitive, err := searchParams(r)
	if err != nil {
		return response{}, err
	}
	if !q.Match(func(field string) (string, bool) {
		if field == "name" {
			return "Default", true
		}
		return engineScope(field)
	}, caseSensitive) {
		return ok(xmlapi.Elem("data_centers")), nil
	}
	return ok(xmlapi.DataCenters()), nil
}

// checkDataCenter refuses a path that names another data center than the
// one (by id, or by its name).
func checkDataCenter(r *request) error {
	if dc := r.param("dc"); dc != xmlapi.DataCenterID && !strings.EqualFold(dc, "Default") {
		return notFound("data center", dc)
	}
	return nil
}

func (a *Agent) getDataCenter(r *request) (response, error) {
	if err := checkDataCenter(r); err != nil {
		return response{}, err
	}
	return ok(xmlapi.DataCenterNode()), nil
}

// pathQoSs is the catalogue of the path's data center.
func (a *Agent) pathQoSs(r *request) ([]*netconf.HostNetworkQoS, error) {
	if err := checkDataCenter(r); err != nil {
		return nil, err
	}
	return a.eng.QoSs()
}

func (a *Agent) listQoSs(r *request) (response, error) {
	qs, err := a.pathQoSs(r)
	if err != nil {
		return response{}, err
	}
	return ok(xmlapi.QoSs(qs)), nil
}

func (a *Agent) getQoS(r *request) (response, error) {
	qs, err := a.pathQoSs(r)
	if err != nil {
		return response{}, err
	}
	q := netconf.FindQoS(qs, r.param("qos"))
	if q == nil {
		return response{}, notFound("QoS", r.param("qos"))
	}
	return ok(xmlapi.QoSNode(q)), nil
}

// decodeQoS decodes the <qos> body of a write on the path's data center.
func (a *Agent) decodeQoS(r *request) (netconf.QoSChange, error) {
	if err := checkDataCenter(r); err != nil {
		return netconf.QoSChange{}, err
	}
	n, err := parseBody(r, "qos")
	if err != nil {
		return netconf.QoSChange{}, err
	}
	ch, err := xmlapi.DecodeQoS(n)
	return ch, decodeFault(err)
}

func (a *Agent) addQoS(r *request) (response, error) {
	ch, err := a.decodeQoS(r)
	if err != nil {
		return response{}, err
	}
	id, err := entityID(ch.ID, "QoS")
	if err != nil {
		return response{}, err
	}
	q, err := a.eng.AddQoS(id, ch)
	if err != nil {
		return response{}, err
	}
	return response{status: http.StatusCreated, doc: xmlapi.QoSNode(q)}, nil
}

// updateQoS changes an entry; the classes of the attached networks that
// name it change with it, in one transaction.
func (a *Agent) updateQoS(r *request) (response, error) {
	ch, err := a.decodeQoS(r)
	if err != nil {
		return response{}, err
	}
	q, res, err := a.eng.UpdateQoS(r.Context(), r.param("qos"), ch)
	if err != nil {
		return response{}, err
	}
	return response{status: http.StatusOK, doc: xmlapi.QoSNode(q), writes: res.Writes}, nil
}

func (a *Agent) deleteQoS(r *request) (response, error) {
	if err := checkDataCenter(r); err != nil {
		return response{}, err
	}
	return response{status: http.StatusOK}, a.eng.RemoveQoS(r.Context(), r.param("qos"))
}

// entityID is the id of a new catalogue entity: the one the request gives,
// or a new one; what names the entity for the fault.
func entityID(given, what string) (string, error) {
	if given == "" {
		return uuid.NewString(), nil
	}
	if strings.ContainsAny(given, "/?#") {
		return "", badRequest(CodeInvalidValue, "%s id %q may not contain / ? or #", what, given)
	}
	return given, nil
}

// resolveNetworkQoS gives a network change that names a QoS the entry it
// names (a copy, which the network keeps); an unknown id is refused when
// the change is applied.
func (a *Agent) resolveNetworkQoS(ch *netconf.NetworkChange) error {
	if ch.QoSID == nil || *ch.QoSID == "" {
		return nil
	}
	qs, err := a.eng.QoSs()
	if err != nil {
		return err
	}
	ch.QoS = netconf.FindQoS(qs, *ch.QoSID).Clone()
	return nil
}
