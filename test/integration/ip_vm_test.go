//go:build vmtest

package integration

import (
	"net/http"
	"testing"
)

// Static IP scenarios of the peers (kernel-testing.md §5, Static IP): on a
// NIC, a bond, a VLAN and a VLAN on a bond, bridged or not, IPv4 and IPv6.

func TestVMStaticIP(t *testing.T) {
	const v4, v6 = "192.0.2.1/24", "fdb3:84e5:4ff4:55e3::1010/64"
	ip := vmStatic4("192.0.2.1", "255.255.255.0", "192.0.2.100") + vmStatic6("fdb3:84e5:4ff4:55e3::1010", "64")
	for _, south := range []string{"nic", "bond", "vlan", "bond-vlan"} {
		for _, bridged := range []bool{false, true} {
			name := south
			if bridged {
				name += "-bridged"
			}
			t.Run(name, func(t *testing.T) {
				e := vmStart(t, 2)
				inner, dev, base := "", "eth0", "eth0"
				var action string
				if south == "bond" || south == "bond-vlan" {
					dev, base = "bond1", "bond1"
					action = `<modified_bonds>` + vmBond("bond1", "mode=1 miimon=100", "eth0", "eth1") + `</modified_bonds>`
				}
				if south == "vlan" || south == "bond-vlan" {
					inner += `<vlan id="100"/>`
					dev += ".100"
				}
				top := dev
				if bridged {
					inner += vmVM
					top = "net_a"
				}
				e.network(vmNetA, "net_a", inner)
				body := `<action>` + action + `<modified_network_attachments>` + vmAttachment(vmNetA, base, ip) +
					`</modified_network_attachments></action>`
				e.changed(e.setup(body))
				e.wantAddrs(top, v4, v6)
				for _, other := range []string{"eth0", "eth1", base, dev} {
					if other != top {
						e.wantAddrs(other)
					}
				}
				e.wantUp(top)
				e.again(http.MethodPost, e.host("/setupnetworks"), body, http.StatusOK)
				a := e.attachment(vmNetA)
				if gw := text(a, "ip_address_assignments", "ip_address_assignment", "ip", "gateway"); gw != "192.0.2.100" {
					t.Errorf("stored gateway = %q; want 192.0.2.100\n%s", gw, a.Canonical())
				}

				// Edit the address and mask.
				e.changed(e.setup(vmAttachAction(vmNetA, base, vmStatic4("192.0.2.2", "25", ""))))
				e.wantAddrs(top, "192.0.2.2/25")
			})
		}
	}
}

// TestVMStaticIPFamilies: the same network v4 → v6 → v4; the expanded IPv6
// form is accepted and stored compressed; a prefix length works as netmask.
func TestVMStaticIPFamilies(t *testing.T) {
	e := vmStart(t, 1)
	e.network(vmNetA, "net_a", "")
	e.attach(vmNetA, "eth0", vmStatic4("192.0.2.1", "24", ""))
	e.wantAddrs("eth0", "192.0.2.1/24")
	e.changed(e.setup(vmAttachAction(vmNetA, "eth0", vmStatic6("2001:0db8:85a3:0000:0000:8a2e:0370:7331", "64"))))
	e.wantAddrs("eth0", "2001:db8:85a3::8a2e:370:7331/64")
	ip := e.attachment(vmNetA).Child("ip_address_assignments")
	found := false
	for _, a := range ip.All("ip_address_assignment") {
		if text(a, "ip", "version") == "v6" {
			found = text(a, "ip", "address") == "2001:db8:85a3::8a2e:370:7331"
		}
	}
	if !found {
		t.Errorf("IPv6 not stored compressed:\n%s", ip.Canonical())
	}
	e.changed(e.setup(vmAttachAction(vmNetA, "eth0", vmStatic4("192.0.2.1", "24", ""))))
	e.wantAddrs("eth0", "192.0.2.1/24")
}

// TestVMStaticIPTwoNetworks: removing one of two networks leaves the other's
// address intact; the same IPv4 address on two devices is allowed.
func TestVMStaticIPTwoNetworks(t *testing.T) {
	e := vmStart(t, 2)
	e.network(vmNetA, "net_a", vmVM)
	e.network(vmNetB, "net_b", "")
	e.setup(`<action><modified_network_attachments>` + vmAttachment(vmNetA, "eth0", vmStatic4("192.0.2.1", "24", "")) +
		vmAttachment(vmNetB, "eth1", vmStatic4("192.0.2.1", "24", "")) + `</modified_network_attachments></action>`)
	e.wantAddrs("net_a", "192.0.2.1/24")
	e.wantAddrs("eth1", "192.0.2.1/24")
	e.changed(e.must(http.MethodDelete, e.host("/networkattachments/"+e.attachmentID(vmNetA)), "", http.StatusOK))
	e.gone("net_a")
	e.wantAddrs("eth1", "192.0.2.1/24")
}

// TestVMStaticIPTakesOverNIC: a NIC with stray addresses taken into an
// IP-less network is flushed; into a network with IP it gets only that IP.
func TestVMStaticIPTakesOverNIC(t *testing.T) {
	e := vmStart(t, 2)
	addAddr(t, e.ns.Handle, e.link("eth0"), "203.0.113.5/24", 0)
	addAddr(t, e.ns.Handle, e.link("eth0"), "2001:db8:1::5/64", 0)
	addAddr(t, e.ns.Handle, e.link("eth1"), "203.0.113.6/24", 0)
	e.network(vmNetA, "net_a", vmVM)
	e.network(vmNetB, "net_b", "")
	e.setup(`<action><modified_network_attachments>` + vmAttachment(vmNetA, "eth0", "") +
		vmAttachment(vmNetB, "eth1", vmStatic4("192.0.2.1", "24", "")) + `</modified_network_attachments></action>`)
	e.wantAddrs("eth0")
	e.wantAddrs("net_a")
	e.wantAddrs("eth1", "192.0.2.1/24")
}
