//go:build vmtest

package integration

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
)

// TestVMBondOptionsAsEngine: a bond made as Ansible's ovirt_host_network
// makes it (mode=4 miimon=100 xmit_hash_policy=2; mode=1 miimon=100) reads
// back with exactly those options, mode typed, enumerations by number, as
// the module compares them; the kernel's view is in kernel_options.
func TestVMBondOptionsAsEngine(t *testing.T) {
	e := vmStart(t, 4)
	e.changed(e.setup(`<action><modified_bonds>` + vmBond("bond1", "mode=4 miimon=100 xmit_hash_policy=2", "eth0", "eth1") +
		vmBond("bond2", "mode=1 miimon=100", "eth2", "eth3") + `</modified_bonds></action>`))
	options := func(bond, list string) []string {
		nic := parseXML(t, e.must(http.MethodGet, e.host("/nics/"+bond), "", http.StatusOK))
		var out []string
		for _, o := range nic.Child("bonding").Child(list).All("option") {
			s := text(o, "name") + "=" + text(o, "value")
			if ty := o.Child("type"); ty != nil {
				s += " (" + ty.Text + ")"
			}
			out = append(out, s)
		}
		slices.Sort(out)
		return out
	}
	if got, want := options("bond1", "options"), []string{"miimon=100", "mode=4 (Dynamic link aggregation (802.3ad))", "xmit_hash_policy=2"}; !slices.Equal(got, want) {
		t.Errorf("bond1 options = %v; want %v", got, want)
	}
	if got, want := options("bond2", "options"), []string{"miimon=100", "mode=1 (Active-Backup)"}; !slices.Equal(got, want) {
		t.Errorf("bond2 options = %v; want %v", got, want)
	}
	k := strings.Join(options("bond1", "kernel_options"), " ")
	for _, want := range []string{"mode=802.3ad", "xmit_hash_policy=layer2+3", "lacp_rate=slow", "miimon=100"} {
		if !strings.Contains(k, want) {
			t.Errorf("bond1 kernel_options %q lack %s", k, want)
		}
	}
}

// TestVMUnmanagedVLAN: a VLAN device made by hand is an unmanaged network
// on its base; DELETE removes it, and the NIC stays.
func TestVMUnmanagedVLAN(t *testing.T) {
	e := vmStart(t, 2)
	eth1 := e.link("eth1")
	if err := e.ns.Handle.LinkAdd(&netlink.Vlan{LinkAttrs: netlink.LinkAttrs{Name: "eth1.300", ParentIndex: eth1.Attrs().Index}, VlanId: 300}); err != nil {
		t.Fatal(err)
	}
	list := parseXML(t, e.must(http.MethodGet, e.host("/unmanagednetworks"), "", http.StatusOK)).All("unmanaged_network")
	if len(list) != 1 || text(list[0], "name") != "eth1.300" {
		t.Fatalf("unmanaged networks: %v", list)
	}
	if nic, _ := list[0].Child("host_nic").Attr("id"); nic != e.nicID("eth1") {
		t.Errorf("eth1.300's host_nic = %q; want eth1's", nic)
	}
	id, _ := list[0].Attr("id")
	e.changed(e.must(http.MethodDelete, e.host("/unmanagednetworks/"+id), "", http.StatusOK))
	e.gone("eth1.300")
	e.wantKind("eth1", "veth")
}
