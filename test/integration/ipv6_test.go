package integration

import (
	"testing"

	"github.com/hostnetd/hostnetd/netconf/kernel"
)

func sysctls(t *testing.T, ns *kernel.Namespace, dev string) map[string]string {
	t.Helper()
	v, err := kernel.ReadIPv6Sysctls(ns, []string{dev})
	if err != nil {
		t.Fatal(err)
	}
	return v[dev]
}

// TestIPv6Settings: a bridge port carries no IPv6; a network's top device
// gets the settings of its IPv6 boot protocol; a NIC that leaves hostnetd's
// management gets the kernel's defaults back.
func TestIPv6Settings(t *testing.T) {
	host, ag := engineHost(t)
	addNetwork(t, ag, `<network><name>vmnet</name><usages><usage>vm</usage></usages></network>`)
	addNetwork(t, ag, `<network><name>auto</name></network>`)
	setup(t, ag, modified(
		`<network_attachment><network><name>vmnet</name></network><host_nic><name>eth0</name></host_nic>
<ip_address_assignments><ip_address_assignment><assignment_method>static</assignment_method>
<ip><address>2001:db8::1</address><netmask>64</netmask><version>v6</version></ip></ip_address_assignment></ip_address_assignments></network_attachment>`,
		`<network_attachment><network><name>auto</name></network><host_nic><name>eth1</name></host_nic>
<ip_address_assignments><ip_address_assignment><assignment_method>autoconf</assignment_method><ip><version>v6</version></ip></ip_address_assignment></ip_address_assignments></network_attachment>`))
	for _, tt := range []struct {
		dev  string
		want map[string]string
	}{
		{"eth0", map[string]string{"disable_ipv6": "1"}},
		{"vmnet", map[string]string{"disable_ipv6": "0", "accept_ra": "0", "autoconf": "0"}},
		{"eth1", map[string]string{"disable_ipv6": "0", "accept_ra": "1", "autoconf": "1"}},
	} {
		got := sysctls(t, host, tt.dev)
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("%s %s = %q; want %q", tt.dev, k, got[k], v)
			}
		}
	}
	if _, _, addrs := linkState(t, host, "vmnet"); len(addrs) != 1 || addrs[0] != "2001:db8::1/64" {
		t.Errorf("vmnet addresses = %v; want 2001:db8::1/64", addrs)
	}
	eth0 := parseXML(t, ag.Get(t, ag.HostPath()+"/nics/eth0"))
	if text(eth0, "ipv6_boot_protocol") != "static" || text(eth0, "ipv6", "address") != "2001:db8::1" {
		t.Errorf("eth0 reports %s", eth0.Canonical())
	}

	setup(t, ag, `<action><removed_network_attachments><network_attachment><network><name>vmnet</name></network></network_attachment></removed_network_attachments></action>`)
	if got := sysctls(t, host, "eth0"); got["disable_ipv6"] != "0" || got["accept_ra"] != "1" || got["autoconf"] != "1" {
		t.Errorf("eth0 after leaving = %v; want the kernel's defaults", got)
	}
}
