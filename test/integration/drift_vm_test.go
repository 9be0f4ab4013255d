//go:build vmtest

package integration

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// TestVMDriftOnBondVLANBridge changes a bridged VLAN network on a bond
// behind hostnetd's back in six ways (bridge MTU, address, gateway, a bond
// option, a bond slave released, the VLAN device deleted). Each must be reported, as the monitor sees it,
// with exact expected and actual values and an event, and each sync form
// must put the host back.
func TestVMDriftOnBondVLANBridge(t *testing.T) {
	e := vmStart(t, 2)
	e.setup(vmBondAction("bond0", "mode=4 miimon=100", "eth0", "eth1"))
	e.network(vmNetA, "net_a", `<vlan id="100"/><usages><usage>vm</usage></usages>`)
	e.attach(vmNetA, "bond0", vmStatic4("192.0.2.10", "24", "192.0.2.1"))
	id := e.attachmentID(vmNetA)

	syncForms := []struct {
		name               string
		method, path, body string
	}{
		{"synchronized_network_attachments", http.MethodPost, e.host("/setupnetworks"),
			`<action><synchronized_network_attachments><network_attachment id="` + id + `"/></synchronized_network_attachments></action>`},
		{"syncallnetworks", http.MethodPost, e.host("/syncallnetworks"), `<action/>`},
		{"override_configuration-query", http.MethodPut, e.host("/networkattachments/" + id + "?override_configuration=true"), `<network_attachment/>`},
		{"override_configuration-element", http.MethodPut, e.host("/networkattachments/" + id),
			`<network_attachment><override_configuration>true</override_configuration></network_attachment>`},
	}
	scenarios := []struct {
		name   string
		change func()
		// field is the reported_configuration that must show the drift.
		field, expected, actual string
	}{
		{"bridge MTU", func() {
			mustNL(t, e.ns.Handle.LinkSetMTU(e.link("net_a"), 1400))
		}, "mtu", "1500", "1400"},
		{"address", func() {
			l := e.link("net_a")
			mustNL(t, e.ns.Handle.AddrDel(l, mustAddr(t, "192.0.2.10/24")))
			mustNL(t, e.ns.Handle.AddrAdd(l, mustAddr(t, "192.0.2.99/24")))
		}, "ipv4_address", "192.0.2.10", "192.0.2.99"},
		{"gateway", func() {
			l := e.link("net_a")
			routes, err := e.ns.Handle.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{LinkIndex: l.Attrs().Index, Table: unix.RT_TABLE_UNSPEC},
				netlink.RT_FILTER_OIF|netlink.RT_FILTER_TABLE)
			mustNL(t, err)
			for _, r := range routes {
				if r.Dst == nil || r.Dst.IP.Equal(net.IPv4zero) {
					mustNL(t, e.ns.Handle.RouteDel(&r))
				}
			}
		}, "ipv4_gateway", "192.0.2.1", ""},
		{"bond option", func() {
			attrs := netlink.NewLinkAttrs() // a zero LinkAttrs sends txqueuelen 0: EBUSY
			attrs.Name = "bond0"            // by name only: name and index together is a rename, EBUSY when up
			b := netlink.NewLinkBond(attrs)
			b.Miimon = 250
			mustNL(t, e.ns.Handle.LinkModify(b))
		}, "bonding_options", "mode=802.3ad miimon=100", "mode=802.3ad miimon=250"},
		{"bond slave released", func() {
			mustNL(t, e.ns.Handle.LinkSetNoMaster(e.link("eth1")))
		}, "bond_slaves", "eth0 eth1", "eth0"},
		{"VLAN device deleted", func() {
			mustNL(t, e.ns.Handle.LinkDel(e.link("bond0.100")))
		}, "vlan", "100", ""},
	}
	for i, sc := range scenarios {
		form := syncForms[i%len(syncForms)]
		t.Run(sc.name+"/"+form.name, func(t *testing.T) {
			e.t = t
			before := vmDump(t, e)
			inSyncEvents := countEvents(t, e, "NETWORK_IN_SYNC", "")
			driftEvents := countEvents(t, e, "NETWORK_OUT_OF_SYNC", sc.field)
			sc.change()
			waitReported(t, e, sc.field, sc.expected, sc.actual)
			waitMoreEvents(t, e, "NETWORK_OUT_OF_SYNC", sc.field, driftEvents)

			r := e.must(form.method, form.path, form.body, http.StatusOK)
			e.changed(r)
			if after := vmDump(t, e); after != before {
				t.Errorf("the sync did not restore the host:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			checkAllInSync(t, e.ag)
			waitMoreEvents(t, e, "NETWORK_IN_SYNC", "", inSyncEvents)
		})
	}
}

// waitReported waits up to a second for the attachment of net_a to be out
// of sync with exactly the given expected and actual values of field.
func waitReported(t *testing.T, e *vmEnv, field, expected, actual string) {
	t.Helper()
	deadline := time.Now().Add(eventWait)
	for {
		att := e.attachment(vmNetA)
		r := reported(att, field)
		if text(att, "in_sync") == "false" && r != nil && text(r, "in_sync") == "false" &&
			text(r, "expected_value") == expected && text(r, "actual_value") == actual {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("within %s, %s is not reported out of sync with expected %q and actual %q:\n%s", eventWait, field, expected, actual, att.Canonical())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func vmDump(t *testing.T, e *vmEnv) string {
	t.Helper()
	st, err := kernel.ReadState(e.ns)
	if err != nil {
		t.Fatal(err)
	}
	return st.Dump()
}

// countEvents counts the events of a code whose description mentions detail.
func countEvents(t *testing.T, e *vmEnv, code, detail string) int {
	t.Helper()
	n := 0
	for _, ev := range eventCodes(t, e.ag, "") {
		if strings.HasPrefix(ev, code+":") && strings.Contains(ev, detail) {
			n++
		}
	}
	return n
}

// waitMoreEvents waits up to a second for a new event of a code whose
// description mentions detail.
func waitMoreEvents(t *testing.T, e *vmEnv, code, detail string, before int) {
	t.Helper()
	deadline := time.Now().Add(eventWait)
	for countEvents(t, e, code, detail) == before {
		if time.Now().After(deadline) {
			t.Fatalf("no new %s event mentioning %q within %s: %v", code, detail, eventWait, eventCodes(t, e.ag, ""))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mustNL(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustAddr(t *testing.T, s string) *netlink.Addr {
	t.Helper()
	a, err := netlink.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
