package integration

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

func eventCodes(t *testing.T, ag *agenttest.Agent, query string) []string {
	t.Helper()
	var codes []string
	for _, e := range parseXML(t, ag.Get(t, ag.HostPath()+"/events"+query)).All("event") {
		codes = append(codes, text(e, "code")+": "+text(e, "description"))
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
	deadline := time.Now().Add(limit)
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
		o.FailStep = func(i int, _ netconf.Step) bool { return int64(i) == failAt.Load() }
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
