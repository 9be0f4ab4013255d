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

// TestVMLabelsOnBond: a label on a bond made in the same setupnetworks
// attaches the labelled network to the bond; a label cannot go on a bond
// slave; removing the bond with its label detaches the network.
func TestVMLabelsOnBond(t *testing.T) {
	e := vmStart(t, 3)
	e.network(vmNetA, "red1", `<vlan id="100"/>`)
	e.must(http.MethodPost, "/ovirt-engine/api/networks/"+vmNetA+"/networklabels", `<network_label id="red"/>`, http.StatusCreated)
	label := func(id, nic string) string {
		return `<modified_labels><network_label id="` + id + `"><host_nic><name>` + nic + `</name></host_nic></network_label></modified_labels>`
	}
	body := `<action><modified_bonds>` + vmBond("bond1", "mode=4 miimon=100 xmit_hash_policy=2", "eth0", "eth1") + `</modified_bonds>` + label("red", "bond1") + `</action>`
	e.changed(e.setup(body))
	e.wantVLAN("bond1.100", "bond1", 100)
	e.attachedTo(vmNetA, "bond1")
	e.again(http.MethodPost, e.host("/setupnetworks"), body, http.StatusOK)

	r := e.do(http.MethodPost, e.host("/setupnetworks"), `<action><modified_bonds>`+vmBond("bond1", "", "eth0", "eth1", "eth2")+`</modified_bonds>`+label("blue", "eth2")+`</action>`)
	if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "LABEL_ATTACH_TO_IMPROPER_INTERFACE") {
		t.Errorf("a label on a new slave: %d %s", r.Status, r.Body)
	}

	e.changed(e.setup(`<action><removed_bonds><host_nic><name>bond1</name></host_nic></removed_bonds><removed_labels><network_label id="red"/></removed_labels></action>`))
	e.gone("bond1", "bond1.100")
	e.notAttached(vmNetA)
}
