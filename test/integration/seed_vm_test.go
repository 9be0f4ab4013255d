//go:build vmtest

package integration

import (
	"net/http"
	"testing"

	"github.com/vishvananda/netlink"
)

// Every example of the oVirt "Networking Api" design page (seed 003), sent
// in its design-page form and in its v4 form, checked against the kernel.
// The request bodies are the files of xmlapi/testdata/requests with their
// placeholder ids replaced.

// vmSeedNetworks creates the catalogue the seed tests share:
//
//	net_a  untagged VM network (a bridge)
//	net_b  VLAN 200, bridgeless
//	net_c  VLAN 100 VM network
//	net_d  untagged, bridgeless
func vmSeedNetworks(e *vmEnv) {
	e.t.Helper()
	e.network(vmNetA, "net_a", vmVM)
	e.network(vmNetB, "net_b", `<vlan id="200"/>`)
	e.network(vmNetC, "net_c", `<vlan id="100"/>`+vmVM)
	e.network(vmNetD, "net_d", "")
}

// vmForms runs one subtest per request form, each on a fresh topology.
func vmForms(t *testing.T, nics int, forms map[string]func(e *vmEnv)) {
	for _, name := range []string{"design", "design-setupnetworks", "design-by-id", "v4", "v4-setupnetworks", "v4-by-id", "v4-query"} {
		f, ok := forms[name]
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			e := vmStart(t, nics)
			vmSeedNetworks(e)
			f(e)
		})
	}
}

func TestVMSeedAttachDHCP(t *testing.T) {
	check := func(e *vmEnv, r []byte) {
		e.t.Helper()
		e.wantBridge("net_a", "eth0")
		e.wantUp("net_a", "eth0")
		e.wantAddrs("eth0")
		a := e.attachment(vmNetA)
		e.attachedTo(vmNetA, "eth0")
		if m := text(a, "ip_address_assignments", "ip_address_assignment", "assignment_method"); m != "dhcp" {
			e.t.Errorf("assignment_method = %q; want dhcp\n%s", m, a.Canonical())
		}
	}
	vmForms(t, 2, map[string]func(e *vmEnv){
		"design": func(e *vmEnv) {
			body := vmRequest(e.t, "design-attach-dhcp.xml")
			path := e.design("/nics/" + e.nicID("eth0") + "/networkattachments")
			r := e.must(http.MethodPost, path, body, http.StatusCreated)
			e.changed(r)
			check(e, r.Body)
			e.again(http.MethodPut, path+"/"+e.attachmentID(vmNetA), body, http.StatusOK)
			before := e.snapshot()
			expectFault(e.t, e.do(http.MethodPost, path, body), http.StatusBadRequest, "ATTACHMENT_IS_NOT_REUSED")
			if after := e.snapshot(); after != before {
				e.t.Errorf("a refused POST changed the host:\n%s\n---\n%s", before, after)
			}
		},
		"v4": func(e *vmEnv) {
			body := vmRequest(e.t, "v4-attach-dhcp.xml")
			path := e.host("/nics/" + e.nicID("eth0") + "/networkattachments")
			r := e.must(http.MethodPost, path, body, http.StatusCreated)
			e.changed(r)
			check(e, r.Body)
			e.again(http.MethodPut, e.host("/networkattachments/"+e.attachmentID(vmNetA)), body, http.StatusOK)
		},
	})
}

func TestVMSeedRemoveNetwork(t *testing.T) {
	prepare := func(e *vmEnv) string {
		e.attach(vmNetA, "eth0", vmStatic4("192.0.2.10", "24", ""))
		e.wantAddrs("net_a", "192.0.2.10/24")
		return e.attachmentID(vmNetA)
	}
	check := func(e *vmEnv) {
		e.gone("net_a")
		e.wantMaster("eth0", "")
		e.wantAddrs("eth0")
		e.wantUp("eth0")
		e.notAttached(vmNetA)
	}
	vmForms(t, 2, map[string]func(e *vmEnv){
		"design": func(e *vmEnv) {
			path := e.design("/nics/" + e.nicID("eth0") + "/networkattachments/" + prepare(e))
			r := e.must(http.MethodDelete, path, "", http.StatusOK)
			e.changed(r)
			check(e)
			e.must(http.MethodDelete, path, "", http.StatusNotFound)
		},
		"v4": func(e *vmEnv) {
			path := e.host("/networkattachments/" + prepare(e))
			r := e.must(http.MethodDelete, path, "", http.StatusOK)
			e.changed(r)
			check(e)
			e.must(http.MethodDelete, path, "", http.StatusNotFound)
		},
	})
}

func TestVMSeedChangeBootProtocol(t *testing.T) {
	prepare := func(e *vmEnv) string {
		e.must(http.MethodPost, e.host("/nics/"+e.nicID("eth0")+"/networkattachments"), vmRequest(e.t, "design-attach-dhcp.xml"), http.StatusCreated)
		return e.attachmentID(vmNetA)
	}
	check := func(e *vmEnv) {
		e.t.Helper()
		e.wantAddrs("net_a", "10.0.0.15/24")
		e.wantAddrs("eth0")
		e.wantBridge("net_a", "eth0")
		a := e.attachment(vmNetA)
		ip := a.Child("ip_address_assignments").Child("ip_address_assignment")
		got := [4]string{text(ip, "assignment_method"), text(ip, "ip", "address"), text(ip, "ip", "netmask"), text(ip, "ip", "gateway")}
		if want := [4]string{"static", "10.0.0.15", "255.255.255.0", "10.0.0.254"}; got != want {
			e.t.Errorf("attachment ip = %v; want %v\n%s", got, want, a.Canonical())
		}
	}
	vmForms(t, 2, map[string]func(e *vmEnv){
		"design": func(e *vmEnv) {
			path := e.design("/nics/" + e.nicID("eth0") + "/networkattachments/" + prepare(e))
			body := vmRequest(e.t, "design-change-boot-protocol.xml")
			e.changed(e.must(http.MethodPut, path, body, http.StatusOK))
			check(e)
			e.again(http.MethodPut, path, body, http.StatusOK)
		},
		"v4": func(e *vmEnv) {
			path := e.host("/networkattachments/" + prepare(e))
			body := vmRequest(e.t, "v4-change-boot-protocol.xml")
			e.changed(e.must(http.MethodPut, path, body, http.StatusOK))
			check(e)
			e.again(http.MethodPut, path, body, http.StatusOK)
		},
	})
}

// TestVMSeedAttachVLANs adds VLAN networks one request at a time to the same
// base: net_c (VLAN 100, bridged), net_b (VLAN 200).
func TestVMSeedAttachVLANs(t *testing.T) {
	check := func(e *vmEnv) {
		e.t.Helper()
		e.wantVLAN("eth0.100", "eth0", 100)
		e.wantVLAN("eth0.200", "eth0", 200)
		e.wantBridge("net_c", "eth0.100")
		e.wantMaster("eth0.200", "")
		e.wantMaster("eth0", "")
		e.wantUp("eth0.100", "eth0.200", "net_c")
		e.attachedTo(vmNetC, "eth0")
		e.attachedTo(vmNetB, "eth0")
	}
	vmForms(t, 2, map[string]func(e *vmEnv){
		"design": func(e *vmEnv) {
			path := e.design("/nics/" + e.nicID("eth0") + "/networkattachments")
			c := vmRequest(e.t, "design-attach-vlan.xml")
			b := vmRequest(e.t, "design-attach-vlan.xml", vmNetC, vmNetB)
			e.changed(e.must(http.MethodPost, path, c, http.StatusCreated))
			e.changed(e.must(http.MethodPost, path, b, http.StatusCreated))
			check(e)
			e.again(http.MethodPut, path+"/"+e.attachmentID(vmNetC), c, http.StatusOK)
			e.again(http.MethodPut, path+"/"+e.attachmentID(vmNetB), b, http.StatusOK)
		},
		"v4": func(e *vmEnv) {
			eth0 := e.nicID("eth0")
			for _, id := range []string{vmNetC, vmNetB} {
				body := `<network_attachment><host_nic id="` + eth0 + `"/><network id="` + id + `"/></network_attachment>`
				e.changed(e.must(http.MethodPost, e.host("/networkattachments"), body, http.StatusCreated))
			}
			check(e)
			e.again(http.MethodPost, e.host("/setupnetworks"),
				`<action><modified_network_attachments>`+vmAttachment(vmNetC, "eth0", "")+vmAttachment(vmNetB, "eth0", "")+
					`</modified_network_attachments></action>`, http.StatusOK)
		},
	})
}

// TestVMSeedSync syncs an attachment whose NIC was changed behind hostnetd's
// back (MTU 1400): the sync succeeds and puts the stored configuration back;
// a second sync has nothing to do.
func TestVMSeedSync(t *testing.T) {
	prepare := func(e *vmEnv) string {
		e.attach(vmNetA, "eth0", vmStatic4("192.0.2.10", "24", ""))
		return e.attachmentID(vmNetA)
	}
	drift := func(e *vmEnv) {
		e.t.Helper()
		if err := e.ns.Handle.LinkSetMTU(e.link("eth0"), 1400); err != nil {
			e.t.Fatal(err)
		}
	}
	sync := func(e *vmEnv, method, path, body string, status int) {
		e.t.Helper()
		drift(e)
		r := e.must(method, path, body, status)
		if method == http.MethodPost && text(parseXML(e.t, r), "status") != "complete" {
			e.t.Errorf("sync answer is not complete:\n%s", r.Body)
		}
		e.changed(r)
		e.wantMTU(1500, "eth0", "net_a")
		e.wantBridge("net_a", "eth0")
		e.wantAddrs("net_a", "192.0.2.10/24")
		e.again(method, path, body, status)
	}
	vmForms(t, 2, map[string]func(e *vmEnv){
		"design": func(e *vmEnv) {
			att := prepare(e)
			sync(e, http.MethodPut, e.design("/nics/"+e.nicID("eth0")+"/networkattachments/"+att), vmRequest(e.t, "design-sync.xml"), http.StatusOK)
		},
		"design-setupnetworks": func(e *vmEnv) {
			att := prepare(e)
			sync(e, http.MethodPost, e.design("/setupnetworks"), vmRequest(e.t, "design-sync-setupnetworks.xml", "11111111-1111-1111-1111-111111111111", att), http.StatusOK)
		},
		"v4-setupnetworks": func(e *vmEnv) {
			att := prepare(e)
			sync(e, http.MethodPost, e.host("/setupnetworks"), vmRequest(e.t, "v4-sync-setupnetworks.xml", "11111111-1111-1111-1111-111111111111", att), http.StatusOK)
		},
		"v4-query": func(e *vmEnv) {
			att := prepare(e)
			sync(e, http.MethodPut, e.host("/networkattachments/"+att+"?override_configuration=true"), `<network_attachment/>`, http.StatusOK)
		},
	})
}

func TestVMSeedCreateBond(t *testing.T) {
	body := func(e *vmEnv, file string) string {
		return vmRequest(e.t, file,
			"833ebaeb-0988-4bd5-b860-e00bcc3f576a", e.nicID("eth0"),
			"782e8199-984e-407f-b242-3d6c7dc2f7b7", e.nicID("eth1"))
	}
	check := func(e *vmEnv, r []byte) {
		e.t.Helper()
		b := e.wantBond("bond0", netlink.BOND_MODE_ACTIVE_BACKUP, "eth0", "eth1")
		if b.Miimon != 100 {
			e.t.Errorf("bond0 miimon = %d; want 100", b.Miimon)
		}
		e.wantUp("bond0", "eth0", "eth1")
	}
	vmForms(t, 3, map[string]func(e *vmEnv){
		"design": func(e *vmEnv) {
			b := body(e, "design-create-bond.xml")
			r := e.must(http.MethodPost, e.design("/nics"), b, http.StatusCreated)
			e.changed(r)
			if n := parseXML(e.t, r); n.Name != "host_nic" || text(n, "name") != "bond0" {
				e.t.Errorf("POST /nics answered %s; want the bond0 host_nic", r.Body)
			}
			check(e, r.Body)
			e.again(http.MethodPut, e.design("/nics/"+e.nicID("bond0")), b, http.StatusOK)
		},
		"v4": func(e *vmEnv) {
			b := body(e, "v4-create-bond.xml")
			r := e.must(http.MethodPost, e.host("/nics"), b, http.StatusCreated)
			e.changed(r)
			check(e, r.Body)
			e.again(http.MethodPut, e.host("/nics/"+e.nicID("bond0")), b, http.StatusOK)
		},
		"v4-setupnetworks": func(e *vmEnv) {
			b := vmBondAction("bond0", "mode=1 miimon=100", "eth0", "eth1")
			r := e.setup(b)
			e.changed(r)
			check(e, r.Body)
			e.again(http.MethodPost, e.host("/setupnetworks"), b, http.StatusOK)
		},
	})
}

// TestVMSeedDeleteBond removes a bond carrying a bridged network and a VLAN
// network: the attachments go with it and the slaves are free NICs again.
func TestVMSeedDeleteBond(t *testing.T) {
	prepare := func(e *vmEnv) {
		e.setup(`<action><modified_bonds>` + vmBond("bond0", "mode=1 miimon=100", "eth0", "eth1") + `</modified_bonds><modified_network_attachments>` +
			vmAttachment(vmNetA, "bond0", vmStatic4("192.0.2.10", "24", "")) + vmAttachment(vmNetB, "bond0", "") +
			`</modified_network_attachments></action>`)
		e.wantBridge("net_a", "bond0")
		e.wantVLAN("bond0.200", "bond0", 200)
	}
	check := func(e *vmEnv) {
		e.t.Helper()
		e.gone("bond0", "bond0.200", "net_a")
		for _, nic := range []string{"eth0", "eth1"} {
			e.wantMaster(nic, "")
			e.wantAddrs(nic)
		}
		e.wantMTU(1500, "eth0", "eth1")
		e.wantUp("eth0", "eth1")
		e.notAttached(vmNetA)
		e.notAttached(vmNetB)
	}
	vmForms(t, 2, map[string]func(e *vmEnv){
		"design": func(e *vmEnv) {
			prepare(e)
			path := e.design("/nics/" + e.nicID("bond0"))
			e.changed(e.must(http.MethodDelete, path, "", http.StatusOK))
			check(e)
			e.must(http.MethodDelete, path, "", http.StatusNotFound)
		},
		"v4-setupnetworks": func(e *vmEnv) {
			prepare(e)
			e.changed(e.setup(`<action><removed_bonds><host_nic><name>bond0</name></host_nic></removed_bonds><removed_network_attachments>` +
				`<network_attachment id="` + e.attachmentID(vmNetA) + `"/><network_attachment id="` + e.attachmentID(vmNetB) + `"/>` +
				`</removed_network_attachments></action>`))
			check(e)
		},
	})
}

// TestVMSeedUpdateBond adds a third slave and changes the mode 1 → 2: the
// bond is rewritten in place (same ifindex) and ends up up.
func TestVMSeedUpdateBond(t *testing.T) {
	prepare := func(e *vmEnv) int {
		e.setup(vmBondAction("bond0", "mode=1 miimon=100", "eth0", "eth1"))
		e.wantUp("bond0")
		return e.index("bond0")
	}
	body := func(e *vmEnv, file string) string {
		return vmRequest(e.t, file,
			"aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", e.nicID("eth0"),
			"bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb", e.nicID("eth1"),
			"cccccccc-cccc-cccc-cccc-cccccccccccc", e.nicID("eth2"))
	}
	check := func(e *vmEnv, idx int) {
		e.t.Helper()
		e.wantBond("bond0", netlink.BOND_MODE_BALANCE_XOR, "eth0", "eth1", "eth2")
		e.sameIndex("bond0", idx)
		e.wantUp("bond0", "eth0", "eth1", "eth2")
	}
	vmForms(t, 3, map[string]func(e *vmEnv){
		"design": func(e *vmEnv) {
			idx := prepare(e)
			path, b := e.design("/nics/"+e.nicID("bond0")), body(e, "design-update-bond.xml")
			e.changed(e.must(http.MethodPut, path, b, http.StatusOK))
			check(e, idx)
			e.again(http.MethodPut, path, b, http.StatusOK)
		},
		"v4-setupnetworks": func(e *vmEnv) {
			idx := prepare(e)
			b := body(e, "v4-update-bond-setupnetworks.xml")
			e.changed(e.setup(b))
			check(e, idx)
			e.again(http.MethodPost, e.host("/setupnetworks"), b, http.StatusOK)
		},
	})
}

// TestVMSeedMoveNetwork moves a network from eth0 to eth1: a bridged one by
// PUT, an untagged bridgeless one with an address and a VLAN one by
// setupnetworks.
func TestVMSeedMoveNetwork(t *testing.T) {
	vmForms(t, 2, map[string]func(e *vmEnv){
		"design": func(e *vmEnv) {
			e.attach(vmNetA, "eth0", vmStatic4("192.0.2.10", "24", ""))
			idx := e.index("net_a")
			path := e.host("/networkattachments/" + e.attachmentID(vmNetA))
			b := vmRequest(e.t, "design-move-attachment.xml", "target-nic-id", e.nicID("eth1"))
			e.changed(e.must(http.MethodPut, path, b, http.StatusOK))
			e.wantBridge("net_a", "eth1")
			e.sameIndex("net_a", idx)
			e.wantMaster("eth0", "")
			e.wantAddrs("net_a", "192.0.2.10/24")
			e.wantUp("net_a", "eth0", "eth1")
			e.attachedTo(vmNetA, "eth1")
			e.again(http.MethodPut, path, b, http.StatusOK)
		},
		"design-setupnetworks": func(e *vmEnv) {
			e.attach(vmNetD, "eth0", vmStatic4("192.0.2.20", "24", "192.0.2.1"))
			b := vmRequest(e.t, "design-move-setupnetworks.xml",
				"11111111-1111-1111-1111-111111111111", e.attachmentID(vmNetD), "target-nic-id", e.nicID("eth1"))
			e.changed(e.setup(b))
			e.wantAddrs("eth0")
			e.wantAddrs("eth1", "192.0.2.20/24")
			e.wantUp("eth0", "eth1")
			e.attachedTo(vmNetD, "eth1")
			if gw := text(e.attachment(vmNetD), "ip_address_assignments", "ip_address_assignment", "ip", "gateway"); gw != "192.0.2.1" {
				e.t.Errorf("gateway after the move = %q; want 192.0.2.1 kept", gw)
			}
			e.again(http.MethodPost, e.host("/setupnetworks"), b, http.StatusOK)
		},
		"v4-setupnetworks": func(e *vmEnv) {
			e.attach(vmNetB, "eth0", "")
			b := vmRequest(e.t, "v4-move-setupnetworks.xml",
				"11111111-1111-1111-1111-111111111111", e.attachmentID(vmNetB), "target-nic-id", e.nicID("eth1"))
			e.changed(e.setup(b))
			e.gone("eth0.200")
			e.wantVLAN("eth1.200", "eth1", 200)
			e.wantUp("eth1.200", "eth0")
			e.attachedTo(vmNetB, "eth1")
			e.again(http.MethodPost, e.host("/setupnetworks"), b, http.StatusOK)
		},
	})
}

// TestVMSeedCreateBondWithNetworks: net_a on eth0 and net_b (VLAN 200) on
// eth1 move onto a new bond of eth0 and eth1 in one request.
func TestVMSeedCreateBondWithNetworks(t *testing.T) {
	prepare := func(e *vmEnv) {
		e.attach(vmNetA, "eth0", "")
		e.attach(vmNetB, "eth1", "")
	}
	check := func(e *vmEnv) {
		e.t.Helper()
		e.wantBond("bond0", netlink.BOND_MODE_ACTIVE_BACKUP, "eth0", "eth1")
		e.wantBridge("net_a", "bond0")
		e.wantVLAN("bond0.200", "bond0", 200)
		e.gone("eth1.200")
		e.wantUp("bond0", "bond0.200", "net_a", "eth0", "eth1")
		e.attachedTo(vmNetA, "bond0")
		e.attachedTo(vmNetB, "bond0")
	}
	for form, file := range map[string]string{"design": "design-create-bond-setupnetworks.xml", "v4-setupnetworks": "v4-create-bond-setupnetworks.xml"} {
		vmForms(t, 2, map[string]func(e *vmEnv){form: func(e *vmEnv) {
			prepare(e)
			b := vmRequest(e.t, file)
			e.changed(e.setup(b))
			check(e)
			e.again(http.MethodPost, e.host("/setupnetworks"), b, http.StatusOK)
		}})
	}
}

// TestVMSeedBreakBond spreads the networks of bond0 over its former slaves:
// net_a on eth0, net_b on eth1; both NICs must be up and carry traffic.
func TestVMSeedBreakBond(t *testing.T) {
	prepare := func(e *vmEnv) {
		e.setup(vmRequest(e.t, "v4-create-bond-setupnetworks.xml"))
		e.wantBridge("net_a", "bond0")
	}
	check := func(e *vmEnv) {
		e.t.Helper()
		e.gone("bond0", "bond0.200")
		e.wantBridge("net_a", "eth0")
		e.wantVLAN("eth1.200", "eth1", 200)
		e.wantUp("eth0", "eth1", "eth1.200", "net_a")
		e.attachedTo(vmNetA, "eth0")
		e.attachedTo(vmNetB, "eth1")
	}
	byID := func(e *vmEnv, file string) string {
		return vmRequest(e.t, file,
			"11111111-1111-1111-1111-111111111111", e.attachmentID(vmNetA),
			"22222222-2222-2222-2222-222222222222", e.attachmentID(vmNetB))
	}
	vmForms(t, 2, map[string]func(e *vmEnv){
		"design": func(e *vmEnv) {
			prepare(e)
			e.changed(e.setup(vmRequest(e.t, "design-break-bond.xml")))
			check(e)
		},
		"design-by-id": func(e *vmEnv) {
			prepare(e)
			e.changed(e.setup(byID(e, "design-break-bond-by-id.xml")))
			check(e)
		},
		"v4": func(e *vmEnv) {
			prepare(e)
			e.changed(e.setup(vmRequest(e.t, "v4-break-bond.xml")))
			check(e)
		},
		"v4-by-id": func(e *vmEnv) {
			prepare(e)
			e.changed(e.setup(byID(e, "v4-break-bond-by-id.xml")))
			check(e)
		},
	})
}

// TestVMSeedRemoveNetworks removes three networks in one request.
func TestVMSeedRemoveNetworks(t *testing.T) {
	prepare := func(e *vmEnv) []string {
		e.attach(vmNetA, "eth0", vmStatic4("192.0.2.10", "24", ""))
		e.attach(vmNetB, "eth1", "")
		e.attach(vmNetC, "eth1", "")
		return []string{
			"11111111-1111-1111-1111-111111111111", e.attachmentID(vmNetA),
			"22222222-2222-2222-2222-222222222222", e.attachmentID(vmNetB),
			"33333333-3333-3333-3333-333333333333", e.attachmentID(vmNetC),
		}
	}
	check := func(e *vmEnv) {
		e.t.Helper()
		e.gone("net_a", "net_c", "eth1.100", "eth1.200")
		e.wantAddrs("eth0")
		e.wantUp("eth0", "eth1")
		if n := len(e.attachments()); n != 0 {
			e.t.Errorf("%d attachments left:\n%s", n, e.attachmentsCanonical())
		}
	}
	vmForms(t, 2, map[string]func(e *vmEnv){
		"design": func(e *vmEnv) {
			e.changed(e.setup(vmRequest(e.t, "design-remove-networks.xml", prepare(e)...)))
			check(e)
		},
		"v4": func(e *vmEnv) {
			ids := append(prepare(e), "/hosts/H", "/hosts/"+e.ag.HostID(), `"H"`, `"`+e.ag.HostID()+`"`, "id-eth0", e.nicID("eth0"))
			e.changed(e.setup(vmRequest(e.t, "v4-remove-networks-listed.xml", ids...)))
			check(e)
		},
	})
}
