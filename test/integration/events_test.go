package integration

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

func eventCodes(t *testing.T, ag *agenttest.Agent, query string) []string {
	t.Helper()
	var codes []string
	for _, e := range parseXML(t, ag.Get(t, ag.HostPath()+"/events"+query)).All("event") {
		codes = append(codes, text(e, "name")+": "+text(e, "description"))
	}
	return codes
}

// waitEvent waits up to a second for an event whose code and description
// contain the given strings.
func waitEvent(t *testing.T, ag *agenttest.Agent, code, detail string) {
	t.Helper()
	waitEventWithin(t, ag, code, detail, time.Second)
}

// waitEventWithin waits up to limit for an event whose code and
// description contain the given strings.
func waitEventWithin(t *testing.T, ag *agenttest.Agent, code, detail string, limit time.Duration) {
	t.Helper()
	// limit is what the caller expects; the wait goes on up to eventWait
	// on a machine slower than that.
	deadline := time.Now().Add(max(limit, eventWait))
	for {
		for _, e := range eventCodes(t, ag, "") {
			if strings.HasPrefix(e, code+":") && strings.Contains(e, detail) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event mentioning %q within %v: %v", code, detail, limit, eventCodes(t, ag, ""))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestEventsRecordChangesRollbacksAndDrift: an applied change, a rolled
// back one, drift detected within a second of a change behind hostnetd's
// back with expected and actual values, and drift cleared by a sync; newest
// first, bounded by max.
func TestEventsRecordChangesRollbacksAndDrift(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	nstest.Veth(t, host, "eth1", peer, "p1")
	var failAt atomic.Int64
	failAt.Store(-1)
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) {
		o.Kernel = engine.FailStep(engine.NamespaceKernel{Namespace: o.Namespace}, func(i int, _ netconf.Step) bool { return int64(i) == failAt.Load() })
	})
	addNetwork(t, ag, `<network><name>vmnet</name><mtu>2000</mtu><usages><usage>vm</usage></usages></network>`)
	addNetwork(t, ag, `<network><name>other</name></network>`)
	setup(t, ag, modified(staticAttachment("vmnet", "eth0", "192.0.2.10", "24")))
	waitEvent(t, ag, "NETWORK_CHANGE_APPLIED", "kernel writes")

	failAt.Store(0)
	r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(modified(staticAttachment("other", "eth1", "198.51.100.1", "24"))))
	expectFault(t, r, http.StatusBadRequest, netconf.CodeFailedIfup)
	failAt.Store(-1)
	waitEvent(t, ag, netconf.CodeFailedIfup, "rolled back")

	if err := host.Handle.LinkSetMTU(nstest.Link(t, host, "vmnet"), 1501); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ag, "NETWORK_OUT_OF_SYNC", "mtu: expected 2000, actual 1501")
	if r := ag.Do(t, "POST", ag.HostPath()+"/syncallnetworks", []byte(`<action/>`)); r.Status != http.StatusOK {
		t.Fatalf("syncallnetworks: %d\n%s", r.Status, r.Body)
	}
	waitEvent(t, ag, "NETWORK_IN_SYNC", "in sync again")

	if got := eventCodes(t, ag, "?max=1"); len(got) != 1 || !strings.HasPrefix(got[0], "NETWORK_IN_SYNC") {
		t.Errorf("max=1 gave %v; want only the newest event", got)
	}
	// from=ID lists only the events after that one: how a client follows.
	all := parseXML(t, ag.Get(t, ag.HostPath()+"/events")).All("event")
	second, _ := all[1].Attr("id")
	if got := eventCodes(t, ag, "?from="+second); len(got) != 1 || !strings.HasPrefix(got[0], "NETWORK_IN_SYNC") {
		t.Errorf("from=%s gave %v; want only the newest event", second, got)
	}
	newest, _ := all[0].Attr("id")
	if got := eventCodes(t, ag, "?from="+newest); len(got) != 0 {
		t.Errorf("from the newest event gave %v; want none", got)
	}
	expectFault(t, ag.Get(t, ag.HostPath()+"/events?from=x"), http.StatusBadRequest, agent.CodeInvalidValue)
}

// TestEngineEvents: /ovirt-engine/api/events serves the host's events as
// an engine does (the SDK's events_service, Ansible's ovirt_event_info):
// the same as /hosts/{id}/events, each with a numeric code, a host link
// and a time the SDK parses; one by id; selected by max, from and search.
func TestEngineEvents(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	nstest.Veth(t, host, "eth1", peer, "p1")
	var failAt atomic.Int64
	failAt.Store(-1)
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) {
		o.Kernel = engine.FailStep(engine.NamespaceKernel{Namespace: o.Namespace}, func(i int, _ netconf.Step) bool { return int64(i) == failAt.Load() })
	})
	addNetwork(t, ag, `<network><name>vmnet</name><usages><usage>vm</usage></usages></network>`)
	addNetwork(t, ag, `<network><name>other</name></network>`)
	setup(t, ag, modified(staticAttachment("vmnet", "eth0", "192.0.2.10", "24")))
	failAt.Store(0)
	r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(modified(staticAttachment("other", "eth1", "198.51.100.1", "24"))))
	expectFault(t, r, http.StatusBadRequest, netconf.CodeFailedIfup)
	failAt.Store(-1)
	waitEvent(t, ag, netconf.CodeFailedIfup, "rolled back")

	engine := parseXML(t, ag.Get(t, "/ovirt-engine/api/events"))
	perHost := parseXML(t, ag.Get(t, ag.HostPath()+"/events"))
	if engine.Canonical() != perHost.Canonical() {
		t.Errorf("/events and /hosts/{id}/events differ:\n%s\n%s", engine.Canonical(), perHost.Canonical())
	}
	events := engine.All("event")
	if len(events) != 3 || text(events[2], "name") != "HOSTNETD_STARTED" {
		t.Fatalf("events: %s", engine.Canonical())
	}
	hostName := text(parseXML(t, ag.Get(t, ag.HostPath())), "name")
	sdkTime := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$`)
	for _, e := range events {
		if _, err := strconv.Atoi(text(e, "code")); err != nil {
			t.Errorf("event code %q is not a number", text(e, "code"))
		}
		if id, _ := e.Attr("id"); text(e, "index") != id {
			t.Errorf("event index %q; want its id %q", text(e, "index"), id)
		}
		if id, _ := e.Child("host").Attr("id"); id != ag.HostID() {
			t.Errorf("event host = %q; want %q", id, ag.HostID())
		}
		if !sdkTime.MatchString(text(e, "time")) {
			t.Errorf("event time %q is not one the SDK reads", text(e, "time"))
		}
	}
	id, _ := events[0].Attr("id")
	for _, path := range []string{"/ovirt-engine/api/events/" + id, ag.HostPath() + "/events/" + id} {
		if got := parseXML(t, ag.Get(t, path)); got.Canonical() != events[0].Canonical() {
			t.Errorf("GET %s = %s; want %s", path, got.Canonical(), events[0].Canonical())
		}
	}
	expectFault(t, ag.Get(t, "/ovirt-engine/api/events/999999"), http.StatusNotFound, agent.CodeNotFound)
	expectFault(t, ag.Get(t, "/ovirt-engine/api/events/x"), http.StatusNotFound, agent.CodeNotFound)

	names := func(query string) []string {
		var out []string
		for _, e := range parseXML(t, ag.Get(t, "/ovirt-engine/api/events?"+query)).All("event") {
			out = append(out, text(e, "name"))
		}
		return out
	}
	q := url.QueryEscape
	cases := []struct {
		query string
		want  []string
	}{
		{"max=1", []string{"FAILED_IFUP"}},
		{"from=" + id, nil},
		{"search=" + q("type=20001"), []string{"NETWORK_CHANGE_APPLIED"}},
		{"search=" + q("type=885 or type=20010"), []string{"FAILED_IFUP"}},
		{"search=" + q("severity>normal"), []string{"FAILED_IFUP"}},
		{"search=" + q(`host.name="`+hostName+`"`), []string{"FAILED_IFUP", "NETWORK_CHANGE_APPLIED", "HOSTNETD_STARTED"}},
		{"search=" + q(`Events: host.name="`+hostName+`" and type=20001`), []string{"NETWORK_CHANGE_APPLIED"}},
		{"search=" + q("host.name=no-such-host"), nil},
		{"search=" + q("message=*rolled*"), []string{"FAILED_IFUP"}},
		{"search=" + q("severity>normal or type=20001") + "&max=1", []string{"FAILED_IFUP"}},
	}
	for _, c := range cases {
		if got := names(c.query); !slices.Equal(got, c.want) {
			t.Errorf("events?%s = %v; want %v", c.query, got, c.want)
		}
	}
	expectFault(t, ag.Get(t, "/ovirt-engine/api/events?search="+q(`type=`)), http.StatusBadRequest, agent.CodeSearchSyntax)
}
