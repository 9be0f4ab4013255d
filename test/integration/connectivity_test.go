package integration

import (
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// managerHost is a host whose eth0 faces a "manager" at 192.0.2.1 in the
// peer namespace, listening on TCP; the host has no address there yet, so
// the manager is reachable only once a change gives it one.
func managerHost(t *testing.T) (host *kernel.Namespace, managerPort int) {
	t.Helper()
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	addAddr(t, peer.Handle, nstest.Link(t, peer, "p0"), "192.0.2.1/24", 0)
	var ln net.Listener
	if err := peer.Do(func() (err error) { ln, err = net.Listen("tcp", "192.0.2.1:0"); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return host, ln.Addr().(*net.TCPAddr).Port
}

func checkedAction(timeout int) string {
	return `<action><check_connectivity>true</check_connectivity><connectivity_timeout>` + strconv.Itoa(timeout) +
		`</connectivity_timeout><modified_network_attachments>` + staticAttachment("mgmt", "eth0", "192.0.2.10", "24") +
		`</modified_network_attachments></action>`
}

func TestConnectivityNotConfirmedRollsBack(t *testing.T) {
	host, _ := managerHost(t)
	ag := agenttest.Start(t, host)
	addNetwork(t, ag, `<network><name>mgmt</name><usages><usage>vm</usage></usages></network>`)
	before := dump(t, host)
	start := time.Now()
	r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(checkedAction(2)))
	expectFault(t, r, http.StatusBadRequest, engine.CodeLostConnection)
	if waited := time.Since(start); waited < 2*time.Second {
		t.Errorf("answered after %s; the check should wait its 2 s", waited)
	}
	if got := dump(t, host); got != before {
		t.Errorf("not rolled back:\n--- before\n%s\n--- after\n%s", before, got)
	}
	if n := len(parseXML(t, ag.Get(t, ag.HostPath()+"/networkattachments")).All("network_attachment")); n != 0 {
		t.Errorf("%d attachments stored after a rollback", n)
	}
}

func TestConnectivityConfirmedByAClientKeepsTheChange(t *testing.T) {
	host, _ := managerHost(t)
	ag := agenttest.Start(t, host)
	addNetwork(t, ag, `<network><name>mgmt</name><usages><usage>vm</usage></usages></network>`)
	if r := ag.Do(t, "POST", ag.HostPath()+"/confirmconnectivity", []byte(`<action/>`)); r.Status != http.StatusConflict {
		t.Errorf("confirming with nothing pending: %d; want 409", r.Status)
	}
	confirmed := make(chan int, 1)
	go func() {
		// The manager polls, as the engine does, until its confirmation lands.
		for range 100 {
			time.Sleep(100 * time.Millisecond)
			if r := ag.Do(t, "POST", ag.HostPath()+"/confirmconnectivity", []byte(`<action/>`)); r.Status == http.StatusOK {
				confirmed <- r.Status
				return
			}
		}
		confirmed <- 0
	}()
	r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(checkedAction(20)))
	if r.Status != http.StatusOK {
		t.Fatalf("setupnetworks: %d\n%s", r.Status, r.Body)
	}
	if got := <-confirmed; got != http.StatusOK {
		t.Error("the confirmation was never accepted")
	}
	if _, master, _ := linkState(t, host, "eth0"); master != "mgmt" {
		t.Errorf("the change was not kept: eth0 master %q", master)
	}
}

func TestConnectivityProbe(t *testing.T) {
	t.Run("reachable-only-over-the-new-configuration", func(t *testing.T) {
		host, port := managerHost(t)
		ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) {
			o.ConnectivityProbes = []string{"tcp:192.0.2.1:" + strconv.Itoa(port)}
		})
		addNetwork(t, ag, `<network><name>mgmt</name><usages><usage>vm</usage></usages></network>`)
		start := time.Now()
		r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(checkedAction(20)))
		if r.Status != http.StatusOK {
			t.Fatalf("setupnetworks: %d\n%s", r.Status, r.Body)
		}
		if waited := time.Since(start); waited > 10*time.Second {
			t.Errorf("the probe took %s to confirm", waited)
		}
		if _, master, _ := linkState(t, host, "eth0"); master != "mgmt" {
			t.Errorf("the change was not kept: eth0 master %q", master)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		host, _ := managerHost(t)
		ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) {
			o.ConnectivityProbes = []string{"tcp:192.0.2.99:9"}
		})
		addNetwork(t, ag, `<network><name>mgmt</name><usages><usage>vm</usage></usages></network>`)
		before := dump(t, host)
		r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(checkedAction(2)))
		expectFault(t, r, http.StatusBadRequest, engine.CodeLostConnection)
		if got := dump(t, host); got != before {
			t.Errorf("not rolled back:\n--- before\n%s\n--- after\n%s", before, got)
		}
	})
}

// TestOneWriterAtATime holds a transaction open on its connectivity check
// and checks that another write gets 409 after the bounded wait, while
// reads are served at once and show the configuration from before.
func TestOneWriterAtATime(t *testing.T) {
	host, _ := managerHost(t)
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) { o.WriteWait = 300 * time.Millisecond })
	addNetwork(t, ag, `<network><name>mgmt</name><usages><usage>vm</usage></usages></network>`)
	done := make(chan agenttest.Response, 1)
	go func() { done <- ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(checkedAction(3))) }()
	deadline := time.Now().Add(eventWait)
	for text(parseXML(t, ag.Get(t, ag.HostPath())), "network_operation_in_progress") != "true" {
		if time.Now().After(deadline) {
			t.Fatal("the host never reported the operation in progress")
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	atts := ag.Get(t, ag.HostPath()+"/networkattachments")
	if took := time.Since(start); took > time.Second {
		t.Errorf("a read took %s during a transaction", took)
	}
	if n := len(parseXML(t, atts).All("network_attachment")); n != 0 {
		t.Errorf("a read during the transaction sees %d attachments; the stored configuration is still empty", n)
	}
	r := ag.Do(t, "POST", "/ovirt-engine/api/networks", []byte(`<network><name>other</name></network>`))
	expectFault(t, r, http.StatusConflict, engine.CodeOperationInProgress)
	expectFault(t, <-done, http.StatusBadRequest, engine.CodeLostConnection)
}
