package integration

import (
	"net/http"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// TestInfiniteDHCPLeaseReadsAsDHCP: a lease of infinite time (0xffffffff,
// which RFC 2131 allows) is installed with a finite lifetime, the longest
// the kernel keeps as finite, so the address reads as a lease: the NIC's
// boot protocol is dhcp, the attachment is in sync, and syncallnetworks
// neither writes nor takes the address away.
func TestInfiniteDHCPLeaseReadsAsDHCP(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	addAddr(t, peer.Handle, nstest.Link(t, peer, "p0"), "192.0.3.1/24", 0)
	runDnsmasq(t, peer, "p0", "--dhcp-authoritative", "--dhcp-option=3,192.0.3.1", "--dhcp-option=6", "--no-ping",
		"--dhcp-range=192.0.3.10,192.0.3.200,infinite")
	ag := agenttest.Start(t, host)
	addNetwork(t, ag, `<network><name>dyn</name><usages><usage>default_route</usage></usages></network>`)
	setup(t, ag, modified(`<network_attachment><network><name>dyn</name></network><host_nic><name>eth0</name></host_nic>
<ip_address_assignments><ip_address_assignment><assignment_method>dhcp</assignment_method></ip_address_assignment></ip_address_assignments></network_attachment>`))
	waitEventWithin(t, ag, "DHCP_LEASE_ACQUIRED", " on eth0", 30*time.Second)
	addrs, err := host.Handle.AddrList(nstest.Link(t, host, "eth0"), netlink.FAMILY_V4)
	if err != nil || len(addrs) != 1 {
		t.Fatalf("eth0 addresses: %v %v", addrs, err)
	}
	leased := addrs[0].IPNet.String()
	if addrs[0].ValidLft == 0 || uint32(addrs[0].ValidLft) == 0xffffffff {
		t.Errorf("the infinite lease %s is installed permanent (valid_lft %d); want finite", leased, addrs[0].ValidLft)
	}
	nic := parseXML(t, ag.Get(t, ag.HostPath()+"/nics/eth0"))
	if got := text(nic, "boot_protocol"); got != "dhcp" {
		t.Errorf("eth0 boot_protocol = %q; want dhcp\n%s", got, nic.Canonical())
	}
	checkAllInSync(t, ag)
	for range 2 { // twice: a sync that fights the lease shows on the second
		r := ag.Do(t, "POST", ag.HostPath()+"/syncallnetworks", []byte(`<action/>`))
		if r.Status != http.StatusOK {
			t.Fatalf("syncallnetworks: %d\n%s", r.Status, r.Body)
		}
		if w := r.Header.Get("X-Hostnetd-Kernel-Writes"); w != "0" {
			t.Errorf("syncallnetworks made %s kernel writes on a host in sync", w)
		}
	}
	if _, _, now := linkState(t, host, "eth0"); len(now) != 1 || now[0] != leased {
		t.Errorf("after syncallnetworks eth0 has %v; want the lease %s", now, leased)
	}
	checkAllInSync(t, ag)
}
