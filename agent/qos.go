package agent

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/xmlapi"
)

// Host network QoS: the data center's QoS catalogue
// (/datacenters/{dc}/qoss), which networks name by id, and the traffic
// control of the devices carrying networks with a QoS, read by netlink for
// planning, verification, rollback and drift as ethtool settings are.

// qossFile is the QoS catalogue.
const qossFile = "qoss.json"

// qosCatalogue holds the QoS catalogue, read from the state directory on
// first use. mu is taken before the writer slot by the catalogue's writes.
type qosCatalogue struct {
	mu      sync.Mutex
	loaded  bool
	entries []*netconf.HostNetworkQoS
}

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

// load reads the catalogue once; c.mu must be held.
func (c *qosCatalogue) loadLocked(a *Agent) error {
	if c.loaded {
		return nil
	}
	entries, _, err := loadStateFile(a.log, a.opts.StateDir, qossFile, true, checkQoSs)
	if err != nil {
		return fmt.Errorf("reading the QoS catalogue: %w", err)
	}
	c.entries, c.loaded = entries, true
	return nil
}

func checkQoSs(qs []*netconf.HostNetworkQoS) error {
	for i, q := range qs {
		if q == nil || q.ID == "" || q.Linkshare == nil {
			return fmt.Errorf("QoS %d: no id or no link share", i)
		}
	}
	return nil
}

// qosEntries returns the catalogue.
func (a *Agent) qosEntries() ([]*netconf.HostNetworkQoS, error) {
	a.qoss.mu.Lock()
	defer a.qoss.mu.Unlock()
	err := a.qoss.loadLocked(a)
	return a.qoss.entries, err
}

// pathQoSs is the catalogue of the path's data center.
func (a *Agent) pathQoSs(r *request) ([]*netconf.HostNetworkQoS, error) {
	if err := checkDataCenter(r); err != nil {
		return nil, err
	}
	return a.qosEntries()
}

func (a *Agent) listQoSs(r *request) (response, error) {
	qs, err := a.pathQoSs(r)
	if err != nil {
		return response{}, err
	}
	return ok(xmlapi.QoSs(qs)), nil
}

func findQoS(qs []*netconf.HostNetworkQoS, id string) *netconf.HostNetworkQoS {
	if i := slices.IndexFunc(qs, func(q *netconf.HostNetworkQoS) bool { return q.ID == id }); i >= 0 {
		return qs[i]
	}
	return nil
}

func (a *Agent) getQoS(r *request) (response, error) {
	qs, err := a.pathQoSs(r)
	if err != nil {
		return response{}, err
	}
	q := findQoS(qs, r.param("qos"))
	if q == nil {
		return response{}, notFound("QoS", r.param("qos"))
	}
	return ok(xmlapi.QoSNode(q)), nil
}

func (a *Agent) decodeQoS(r *request) (netconf.QoSChange, error) {
	n, err := parseBody(r, "qos")
	if err != nil {
		return netconf.QoSChange{}, err
	}
	ch, err := xmlapi.DecodeQoS(n)
	return ch, decodeFault(err)
}

// beginQoSWrite decodes a <qos> body and takes the catalogue (lockQoS).
func (a *Agent) beginQoSWrite(r *request) (netconf.QoSChange, func(), error) {
	ch, err := a.decodeQoS(r)
	if err != nil {
		return ch, nil, err
	}
	unlock, err := a.lockQoS(r)
	return ch, unlock, err
}

// newQoSLocked validates an entry of the catalogue, new (cur nil) or
// changed; a.qoss.mu must be held.
func (a *Agent) newQoSLocked(cur *netconf.HostNetworkQoS, id string, ch netconf.QoSChange) (*netconf.HostNetworkQoS, error) {
	q, err := netconf.ApplyQoSChange(cur, id, ch)
	if err != nil {
		return nil, ruleFault(err)
	}
	return q, a.checkQoSName(q)
}

func (a *Agent) addQoS(r *request) (response, error) {
	ch, unlock, err := a.beginQoSWrite(r)
	if err != nil {
		return response{}, err
	}
	defer unlock()
	id, err := entityID(ch.ID, "QoS")
	if err != nil {
		return response{}, err
	}
	if findQoS(a.qoss.entries, id) != nil {
		return response{}, newFault(http.StatusConflict, netconf.CodeQoSNameInUse, "Operation Failed", "a QoS with id %s exists", id)
	}
	q, err := a.newQoSLocked(nil, id, ch)
	if err != nil {
		return response{}, err
	}
	if err := a.storeQoSsLocked(append(slices.Clone(a.qoss.entries), q)); err != nil {
		return response{}, err
	}
	return response{status: http.StatusCreated, doc: xmlapi.QoSNode(q)}, nil
}

// updateQoS changes an entry and the networks that name it, in one
// transaction when any of them is attached: their classes change.
func (a *Agent) updateQoS(r *request) (response, error) {
	ch, unlock, err := a.beginQoSWrite(r)
	if err != nil {
		return response{}, err
	}
	defer unlock()
	cur, err := a.pathQoSLocked(r)
	if err != nil {
		return response{}, err
	}
	if ch.ID != "" && ch.ID != cur.ID {
		return response{}, badRequest(CodeInvalidValue, "the body names QoS %s, the path %s", ch.ID, cur.ID)
	}
	q, err := a.newQoSLocked(cur, cur.ID, ch)
	if err != nil {
		return response{}, err
	}
	writes, err := a.updateCatalogue(r.Context(), func(nets []*netconf.Network) ([]*netconf.Network, error) {
		out := slices.Clone(nets)
		for i, n := range nets {
			if n.QoS != nil && n.QoS.ID == q.ID {
				c := *n
				c.QoS = q.Clone()
				out[i] = &c
			}
		}
		return out, nil
	})
	if err != nil {
		return response{}, err
	}
	entries := slices.Clone(a.qoss.entries)
	entries[slices.Index(entries, cur)] = q
	if err := a.storeQoSsLocked(entries); err != nil {
		return response{}, err
	}
	return response{status: http.StatusOK, doc: xmlapi.QoSNode(q), writes: writes}, nil
}

// lockQoS takes the catalogue of the path's data center for a write, loaded;
// it returns the function that releases it.
func (a *Agent) lockQoS(r *request) (func(), error) {
	if err := checkDataCenter(r); err != nil {
		return nil, err
	}
	a.qoss.mu.Lock()
	if err := a.qoss.loadLocked(a); err != nil {
		a.qoss.mu.Unlock()
		return nil, err
	}
	return a.qoss.mu.Unlock, nil
}

// pathQoSLocked is the entry the path names; a.qoss.mu must be held.
func (a *Agent) pathQoSLocked(r *request) (*netconf.HostNetworkQoS, error) {
	if cur := findQoS(a.qoss.entries, r.param("qos")); cur != nil {
		return cur, nil
	}
	return nil, notFound("QoS", r.param("qos"))
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

// checkQoSName refuses a name another entry has; a.qoss.mu must be held.
func (a *Agent) checkQoSName(q *netconf.HostNetworkQoS) error {
	for _, o := range a.qoss.entries {
		if o.ID != q.ID && o.Name == q.Name {
			return newFault(http.StatusConflict, netconf.CodeQoSNameInUse, "Operation Failed", "a QoS named %q exists", q.Name)
		}
	}
	return nil
}

func (a *Agent) deleteQoS(r *request) (response, error) {
	unlock, err := a.lockQoS(r)
	if err != nil {
		return response{}, err
	}
	defer unlock()
	cur, err := a.pathQoSLocked(r)
	if err != nil {
		return response{}, err
	}
	nets, _ := a.snapshot()
	for _, n := range nets {
		if n.QoS != nil && n.QoS.ID == cur.ID {
			return response{}, newFault(http.StatusConflict, netconf.CodeQoSInUse, "Operation Failed",
				"QoS %s is the QoS of network %s; give the network another QoS or none first", cur.Name, n.Name)
		}
	}
	entries := slices.DeleteFunc(slices.Clone(a.qoss.entries), func(q *netconf.HostNetworkQoS) bool { return q == cur })
	return response{status: http.StatusOK}, a.storeQoSsLocked(entries)
}

// storeQoSsLocked writes the catalogue and makes it current; a.qoss.mu
// must be held.
func (a *Agent) storeQoSsLocked(entries []*netconf.HostNetworkQoS) error {
	data, err := encodeJSON(entries)
	if err != nil {
		return fmt.Errorf("encoding the QoS catalogue: %w", err)
	}
	if err := a.writeState(stateFile{qossFile, data}); err != nil {
		return faultOfState(err, false)
	}
	a.qoss.entries = entries
	return nil
}

// resolveNetworkQoS gives a network change that names a QoS the entry it
// names (a copy, which the network keeps).
func (a *Agent) resolveNetworkQoS(ch *netconf.NetworkChange) error {
	if ch.QoSID == nil || *ch.QoSID == "" {
		return nil
	}
	qs, err := a.qosEntries()
	if err != nil {
		return err
	}
	ch.QoS = findQoS(qs, *ch.QoSID).Clone()
	return nil
}

// hasQoS reports whether any attachment of cfg runs a host network QoS.
func hasQoS(cfg *netconf.Config, nets []*netconf.Network) bool {
	if !slices.ContainsFunc(nets, func(n *netconf.Network) bool { return n.QoS != nil }) &&
		!slices.ContainsFunc(cfg.Attachments, func(at netconf.Attachment) bool { return at.QoS != nil }) {
		return false
	}
	byID := networksByID(nets)
	return slices.ContainsFunc(cfg.Attachments, func(at netconf.Attachment) bool {
		n := byID[at.NetworkID]
		return n != nil && netconf.EffectiveQoS(at, n) != nil
	})
}

// withQoS returns st with the traffic control of every device whose QoS
// the targets manage, read now; st itself when there is none to read.
func (a *Agent) withQoS(st *netconf.State, targets ...*netconf.Target) *netconf.State {
	var missing []string
	for _, name := range netconf.QoSDevices(targets...) {
		if st.QoS[name] == nil {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return st
	}
	read, err := kernel.ReadQoS(a.opts.Namespace, missing)
	if err != nil {
		a.log.Warn("reading traffic control", zap.Error(err))
	}
	out := *st
	out.QoS = make(map[string]*netconf.QoSState, len(st.QoS)+len(read))
	maps.Copy(out.QoS, st.QoS)
	maps.Copy(out.QoS, read)
	return &out
}

// qosSupported asks the kernel, without changing anything, whether it can
// shape host network QoS.
func (a *Agent) qosSupported() error { return kernel.QoSSupported(a.opts.Namespace) }

// readQoS reads one device's traffic control, to validate a request.
func (a *Agent) readQoS(dev string) (*netconf.QoSState, error) {
	m, err := kernel.ReadQoS(a.opts.Namespace, []string{dev})
	return m[dev], err
}
