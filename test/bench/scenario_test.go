//go:build bench

package bench

import (
	"fmt"
	"strings"
)

// scenario is S(N): the names and addresses of its N networks, the
// setupnetworks requests that create and remove them, and the ip -batch
// files that do the same.
type scenario struct{ n int }

// VLANs 10 to 4094 make room for 4085 networks on the trunk: the whole
// VLAN range, but for the few ids a switch keeps for itself.
const (
	bondName    = "bond0"
	firstVLAN   = 10
	maxNetworks = 4094 - firstVLAN + 1
)

// nics are the two NICs of the bond, with fixed MACs so that the bond
// (which takes its first slave's MAC), its VLANs and their bridges get the
// same addresses in every namespace and the end states compare exactly.
var nics = []struct{ name, peer, mac string }{
	{"eth0", "p0", "02:00:00:00:b0:00"},
	{"eth1", "p1", "02:00:00:00:b0:01"},
}

func (s scenario) network(i int) string { return fmt.Sprintf("net%04d", i) }
func (s scenario) vlan(i int) int       { return firstVLAN + i }
func (s scenario) vlanDev(i int) string { return fmt.Sprintf("%s.%d", bondName, s.vlan(i)) }

// address is network i's static address: each network its own /24.
func (s scenario) address(i int) string {
	return fmt.Sprintf("10.%d.%d.1", 100+i/256, i%256)
}

// networkXML is the catalogue entry of network i: a VM network (bridged)
// on VLAN firstVLAN+i.
func (s scenario) networkXML(i int) string {
	return fmt.Sprintf(`<network><name>%s</name><vlan id="%d"/><usages><usage>vm</usage></usages></network>`, s.network(i), s.vlan(i))
}

// applyXML is the one setupnetworks request that creates S(N): the bond
// and the N attachments, committed on success (so restore has it).
func (s scenario) applyXML() string {
	var b strings.Builder
	b.WriteString(`<action><modified_bonds><host_nic><name>` + bondName + `</name><bonding><options>` +
		`<option><name>mode</name><value>4</value></option><option><name>miimon</name><value>100</value></option></options><slaves>`)
	for _, nic := range nics {
		b.WriteString(`<host_nic><name>` + nic.name + `</name></host_nic>`)
	}
	b.WriteString(`</slaves></bonding></host_nic></modified_bonds><modified_network_attachments>`)
	for i := range s.n {
		fmt.Fprintf(&b, `<network_attachment><network><name>%s</name></network><host_nic><name>%s</name></host_nic>`+
			`<ip_address_assignments><ip_address_assignment><assignment_method>static</assignment_method>`+
			`<ip><address>%s</address><netmask>255.255.255.0</netmask><version>v4</version></ip>`+
			`</ip_address_assignment></ip_address_assignments></network_attachment>`, s.network(i), bondName, s.address(i))
	}
	b.WriteString(`</modified_network_attachments><commit_on_success>true</commit_on_success></action>`)
	return b.String()
}

// removeXML is the one setupnetworks request that removes the N
// attachments and the bond.
func (s scenario) removeXML() string {
	var b strings.Builder
	b.WriteString(`<action><removed_network_attachments>`)
	for i := range s.n {
		fmt.Fprintf(&b, `<network_attachment><network><name>%s</name></network></network_attachment>`, s.network(i))
	}
	b.WriteString(`</removed_network_attachments><removed_bonds><host_nic><name>` + bondName + `</name></host_nic></removed_bonds></action>`)
	return b.String()
}

// applyBatch is the ip -batch file that builds the same end state as
// applyXML, in the order hostnetd's plan uses: the bond, its slaves (down,
// then enslaved), then per network the VLAN, the bridge, the port, the
// links up and the address. IPv6 is off on every device in both end states;
// the baseline gets that from its namespace's default (set before it
// runs), hostnetd by writing each device's disable_ipv6.
func (s scenario) applyBatch() string {
	var b strings.Builder
	fmt.Fprintf(&b, "link add %s type bond mode 802.3ad miimon 100\n", bondName)
	for _, nic := range nics {
		fmt.Fprintf(&b, "link set %s down\nlink set %s master %s\n", nic.name, nic.name, bondName)
	}
	fmt.Fprintf(&b, "link set %s up\n", bondName)
	for i := range s.n {
		fmt.Fprintf(&b, "link add link %s name %s type vlan id %d\n", bondName, s.vlanDev(i), s.vlan(i))
		fmt.Fprintf(&b, "link add %s type bridge stp_state 0\n", s.network(i))
		fmt.Fprintf(&b, "link set %s master %s\n", s.vlanDev(i), s.network(i))
		fmt.Fprintf(&b, "link set %s up\nlink set %s up\n", s.vlanDev(i), s.network(i))
		fmt.Fprintf(&b, "addr add %s/24 dev %s\n", s.address(i), s.network(i))
	}
	return b.String()
}

// removeBatch is the ip -batch file that removes what applyBatch built, as
// hostnetd's plan does: bridges, VLANs, the bond, then the released NICs
// up again.
func (s scenario) removeBatch() string {
	var b strings.Builder
	for i := s.n - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "link del %s\n", s.network(i))
	}
	for i := s.n - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "link del %s\n", s.vlanDev(i))
	}
	fmt.Fprintf(&b, "link del %s\n", bondName)
	for _, nic := range nics {
		fmt.Fprintf(&b, "link set %s up\n", nic.name)
	}
	return b.String()
}

// batchLines counts the commands of an ip -batch file.
func batchLines(batch string) int { return strings.Count(batch, "\n") }
