//go:build vmtest

package integration

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
	"github.com/hostnetd/hostnetd/xmlapi"
)

// The network ids of the design-page request files
// (xmlapi/testdata/requests), which the VM tests create as they are so the
// files can be sent unchanged.
const (
	vmNetA = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
	vmNetB = "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb"
	vmNetC = "cccccccc-cccc-cccc-cccc-cccccccccccc"
	vmNetD = "dddddddd-dddd-dddd-dddd-dddddddddddd"
	// vmVM is the usages element of a VM (bridged) network.
	vmVM = "<usages><usage>vm</usage></usages>"
)

// vmEnv is one test topology: a host namespace with veth NICs eth0..ethN-1
// whose peers p0..pN-1 sit in a peer namespace (the "switch"), and an agent
// managing the host namespace.
type vmEnv struct {
	t    *testing.T
	ns   *kernel.Namespace
	peer *kernel.Namespace
	ag   *agenttest.Agent
	// driftExpected turns off the check that every attachment is in sync
	// after a setup, for tests that leave drift on purpose.
	driftExpected bool
}

// vmStart builds the topology with n NICs and starts the agent.
func vmStart(t *testing.T, n int) *vmEnv {
	t.Helper()
	e := &vmEnv{t: t, ns: nstest.New(t), peer: nstest.New(t)}
	for i := range n {
		nstest.Veth(t, e.ns, "eth"+strconv.Itoa(i), e.peer, "p"+strconv.Itoa(i))
	}
	e.ag = agenttest.Start(t, e.ns)
	return e
}

// host is the v4 path of this host plus suffix; design the design page's
// /api alias of it.
func (e *vmEnv) host(suffix string) string   { return e.ag.HostPath() + suffix }
func (e *vmEnv) design(suffix string) string { return "/api/hosts/" + e.ag.HostID() + suffix }

// vmRequest reads a request file of xmlapi/testdata/requests and applies the
// replacements (old, new, old, new…).
func vmRequest(t *testing.T, file string, replacements ...string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "xmlapi", "testdata", "requests", file))
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer(replacements...).Replace(string(data))
}

// do sends a request and logs it with its answer.
func (e *vmEnv) do(method, path, body string) agenttest.Response {
	e.t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	return e.ag.Do(e.t, method, path, b, "Content-Type: application/xml")
}

// must sends a request and fails the test unless the answer has status.
func (e *vmEnv) must(method, path, body string, status int) agenttest.Response {
	e.t.Helper()
	r := e.do(method, path, body)
	if r.Status != status {
		e.t.Fatalf("%s %s: status %d; want %d\n%s\nrequest:\n%s", method, path, r.Status, status, r.Body, body)
	}
	return r
}

// vmWrites is the X-Hostnetd-Kernel-Writes header of a write.
func vmWrites(t *testing.T, r agenttest.Response) int {
	t.Helper()
	h := r.Header.Get("X-Hostnetd-Kernel-Writes")
	n, err := strconv.Atoi(h)
	if err != nil {
		t.Fatalf("X-Hostnetd-Kernel-Writes = %q; want a number", h)
	}
	return n
}

// changed fails unless the write reported kernel writes.
func (e *vmEnv) changed(r agenttest.Response) {
	e.t.Helper()
	if n := vmWrites(e.t, r); n == 0 {
		e.t.Errorf("X-Hostnetd-Kernel-Writes = 0 for a write that changed the kernel")
	}
}

// again re-sends a write that already succeeded: same status, 0 kernel
// writes.
func (e *vmEnv) again(method, path, body string, status int) {
	e.t.Helper()
	r := e.must(method, path, body, status)
	if n := vmWrites(e.t, r); n != 0 {
		e.t.Errorf("re-sending %s %s made %d kernel writes; want 0 (idempotent)", method, path, n)
	}
}

// setup POSTs a setupnetworks action and expects it complete.
func (e *vmEnv) setup(body string) agenttest.Response {
	e.t.Helper()
	r := e.must(http.MethodPost, e.host("/setupnetworks"), body, http.StatusOK)
	doc := parseXML(e.t, r)
	if doc.Name != "action" || text(doc, "status") != "complete" {
		e.t.Fatalf("setupnetworks answer is not a complete action:\n%s", r.Body)
	}
	if !e.driftExpected {
		checkAllInSync(e.t, e.ag)
	}
	return r
}

// network creates a network of the catalogue; inner is extra XML inside
// <network> (vlan, mtu, usages…).
func (e *vmEnv) network(id, name, inner string) {
	e.t.Helper()
	e.must(http.MethodPost, "/ovirt-engine/api/networks",
		`<network id="`+id+`"><name>`+name+`</name>`+inner+`</network>`, http.StatusCreated)
}

// attach attaches a network to a NIC or bond through setupnetworks; ip is
// optional ip_address_assignment elements.
func (e *vmEnv) attach(netID, nic, ip string) {
	e.t.Helper()
	r := e.setup(vmAttachAction(netID, nic, ip))
	e.changed(r)
}

func vmAttachAction(netID, nic, ip string) string {
	return `<action><modified_network_attachments>` + vmAttachment(netID, nic, ip) + `</modified_network_attachments></action>`
}

func vmAttachment(netID, nic, ip string) string {
	s := `<network_attachment><network id="` + netID + `"/>`
	if nic != "" {
		s += `<host_nic><name>` + nic + `</name></host_nic>`
	}
	if ip != "" {
		s += `<ip_address_assignments>` + ip + `</ip_address_assignments>`
	}
	return s + `</network_attachment>`
}

// vmStatic4 and vmStatic6 are static ip_address_assignments.
func vmStatic4(addr, mask, gw string) string {
	s := `<ip_address_assignment><assignment_method>static</assignment_method><ip><address>` + addr + `</address><netmask>` + mask + `</netmask>`
	if gw != "" {
		s += `<gateway>` + gw + `</gateway>`
	}
	return s + `<version>v4</version></ip></ip_address_assignment>`
}

func vmStatic6(addr, prefix string) string {
	return `<ip_address_assignment><assignment_method>static</assignment_method><ip><address>` + addr +
		`</address><netmask>` + prefix + `</netmask><version>v6</version></ip></ip_address_assignment>`
}

// vmBondAction is a setupnetworks action creating or changing one bond.
func vmBondAction(name, options string, slaves ...string) string {
	return `<action><modified_bonds>` + vmBond(name, options, slaves...) + `</modified_bonds></action>`
}

// vmBond is a v4 bond element; options is "mode=1 miimon=100" (empty: no
// options element).
func vmBond(name, options string, slaves ...string) string {
	return bondXML("bonding", name, options, slaves...)
}

// nicID is the API id of a NIC, from GET /nics.
func (e *vmEnv) nicID(name string) string {
	e.t.Helper()
	nic, ok := nicsByName(e.t, parseXML(e.t, e.must(http.MethodGet, e.host("/nics"), "", http.StatusOK)))[name]
	if !ok {
		e.t.Fatalf("GET /nics does not list %s", name)
	}
	id, _ := nic.Attr("id")
	return id
}

// attachments lists GET /networkattachments by network id.
func (e *vmEnv) attachments() map[string]*xmlapi.Node {
	e.t.Helper()
	out := map[string]*xmlapi.Node{}
	doc := parseXML(e.t, e.must(http.MethodGet, e.host("/networkattachments"), "", http.StatusOK))
	for _, a := range doc.All("network_attachment") {
		id, _ := a.Child("network").Attr("id")
		out[id] = a
	}
	return out
}

// attachmentsCanonical is GET /networkattachments as canonical text.
func (e *vmEnv) attachmentsCanonical() string {
	e.t.Helper()
	return parseXML(e.t, e.must(http.MethodGet, e.host("/networkattachments"), "", http.StatusOK)).Canonical()
}

// attachment is the attachment of a network; fatal when it is not attached.
func (e *vmEnv) attachment(netID string) *xmlapi.Node {
	e.t.Helper()
	a, ok := e.attachments()[netID]
	if !ok {
		e.t.Fatalf("network %s is not attached; GET /networkattachments:\n%s", netID, e.attachmentsCanonical())
	}
	return a
}

// attachmentID is the id of a network's attachment.
func (e *vmEnv) attachmentID(netID string) string {
	e.t.Helper()
	id, _ := e.attachment(netID).Attr("id")
	return id
}

// attachedTo checks the NIC an attachment names (by id).
func (e *vmEnv) attachedTo(netID, nic string) {
	e.t.Helper()
	got, _ := e.attachment(netID).Child("host_nic").Attr("id")
	if want := e.nicID(nic); got != want {
		e.t.Errorf("network %s is attached to NIC id %s; want %s (%s)", netID, got, want, nic)
	}
}

// notAttached checks that a network has no attachment.
func (e *vmEnv) notAttached(netID string) {
	e.t.Helper()
	if _, ok := e.attachments()[netID]; ok {
		e.t.Errorf("network %s is still attached:\n%s", netID, e.attachmentsCanonical())
	}
}

// --- the kernel, read back through netlink ---

func (e *vmEnv) link(name string) netlink.Link {
	e.t.Helper()
	l, err := e.ns.Handle.LinkByName(name)
	if err != nil {
		e.t.Fatalf("%s: %v\n%s", name, err, e.links())
	}
	return l
}

// links is a one-line-per-link summary, for failure messages.
func (e *vmEnv) links() string {
	ls, err := e.ns.Handle.LinkList()
	if err != nil {
		return err.Error()
	}
	names := map[int]string{}
	for _, l := range ls {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	var b strings.Builder
	b.WriteString("links now:\n")
	for _, l := range ls {
		a := l.Attrs()
		up := "down"
		if a.Flags&net.FlagUp != 0 {
			up = "up"
		}
		b.WriteString("  " + a.Name + " " + l.Type() + " mtu " + strconv.Itoa(a.MTU) + " " + up + " oper " + a.OperState.String())
		if a.MasterIndex > 0 {
			b.WriteString(" master " + names[a.MasterIndex])
		}
		if v, ok := l.(*netlink.Vlan); ok {
			b.WriteString(" vlan " + strconv.Itoa(v.VlanId) + " on " + names[a.ParentIndex])
		}
		b.WriteString("\n")
	}
	return b.String()
}

// gone checks that a link does not exist.
func (e *vmEnv) gone(names ...string) {
	e.t.Helper()
	for _, name := range names {
		if _, err := e.ns.Handle.LinkByName(name); err == nil {
			e.t.Errorf("%s still exists\n%s", name, e.links())
		}
	}
}

func (e *vmEnv) masterOf(name string) string {
	e.t.Helper()
	idx := e.link(name).Attrs().MasterIndex
	if idx == 0 {
		return ""
	}
	m, err := e.ns.Handle.LinkByIndex(idx)
	if err != nil {
		e.t.Fatal(err)
	}
	return m.Attrs().Name
}

// wantMaster checks a link's master ("" for none).
func (e *vmEnv) wantMaster(name, master string) {
	e.t.Helper()
	if got := e.masterOf(name); got != master {
		e.t.Errorf("%s master = %q; want %q\n%s", name, got, master, e.links())
	}
}

// wantKind checks a link's kind (bridge, bond, vlan, veth).
func (e *vmEnv) wantKind(name, kind string) netlink.Link {
	e.t.Helper()
	l := e.link(name)
	if l.Type() != kind {
		e.t.Errorf("%s is a %s; want a %s", name, l.Type(), kind)
	}
	return l
}

// wantMTU checks the MTU of each named link.
func (e *vmEnv) wantMTU(mtu int, names ...string) {
	e.t.Helper()
	for _, name := range names {
		if got := e.link(name).Attrs().MTU; got != mtu {
			e.t.Errorf("%s mtu = %d; want %d", name, got, mtu)
		}
	}
}

// wantVLAN checks a VLAN device: kind, id and base.
func (e *vmEnv) wantVLAN(name, base string, id int) netlink.Link {
	e.t.Helper()
	l := e.link(name)
	v, ok := l.(*netlink.Vlan)
	if !ok {
		e.t.Fatalf("%s is a %s; want a vlan", name, l.Type())
	}
	if v.VlanId != id {
		e.t.Errorf("%s vlan id = %d; want %d", name, v.VlanId, id)
	}
	if p, err := e.ns.Handle.LinkByIndex(v.ParentIndex); err != nil || p.Attrs().Name != base {
		e.t.Errorf("%s base = %v (%v); want %s", name, p, err, base)
	}
	return l
}

// ports lists the links enslaved to master, sorted.
func (e *vmEnv) ports(master string) []string {
	e.t.Helper()
	m := e.link(master)
	ls, err := e.ns.Handle.LinkList()
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, l := range ls {
		if l.Attrs().MasterIndex == m.Attrs().Index {
			out = append(out, l.Attrs().Name)
		}
	}
	slices.Sort(out)
	return out
}

// wantPorts checks the exact set of ports of a bridge or slaves of a bond.
func (e *vmEnv) wantPorts(master string, want ...string) {
	e.t.Helper()
	slices.Sort(want)
	if got := e.ports(master); !slices.Equal(got, want) {
		e.t.Errorf("%s ports = %v; want %v", master, got, want)
	}
}

// wantBridge checks a bridge and its exact ports.
func (e *vmEnv) wantBridge(name string, ports ...string) {
	e.t.Helper()
	e.wantKind(name, "bridge")
	e.wantPorts(name, ports...)
}

// wantBond checks a bond's mode and exact slaves and returns it.
func (e *vmEnv) wantBond(name string, mode netlink.BondMode, slaves ...string) *netlink.Bond {
	e.t.Helper()
	l := e.link(name)
	b, ok := l.(*netlink.Bond)
	if !ok {
		e.t.Fatalf("%s is a %s; want a bond", name, l.Type())
	}
	if b.Mode != mode {
		e.t.Errorf("%s mode = %s; want %s", name, b.Mode, mode)
	}
	e.wantPorts(name, slaves...)
	return b
}

// globalAddrs lists a link's addresses other than IPv6 link-local ones.
func (e *vmEnv) globalAddrs(name string) []string {
	e.t.Helper()
	addrs, err := e.ns.Handle.AddrList(e.link(name), unix.AF_UNSPEC)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, a := range addrs {
		if a.IP.IsLinkLocalUnicast() {
			continue
		}
		out = append(out, a.IPNet.String())
	}
	slices.Sort(out)
	return out
}

// wantAddrs checks a link's exact set of global addresses.
func (e *vmEnv) wantAddrs(name string, want ...string) {
	e.t.Helper()
	slices.Sort(want)
	if got := e.globalAddrs(name); !slices.Equal(got, want) {
		e.t.Errorf("%s addresses = %v; want %v", name, got, want)
	}
}

// wantUp waits (bounded) until each link is admin up with operstate up.
func (e *vmEnv) wantUp(names ...string) {
	e.t.Helper()
	for _, name := range names {
		deadline := time.Now().Add(eventWait)
		for {
			a := e.link(name).Attrs()
			if a.Flags&net.FlagUp != 0 && a.OperState == netlink.OperUp {
				break
			}
			if time.Now().After(deadline) {
				e.t.Errorf("%s is not up: flags %v, operstate %s\n%s", name, a.Flags, a.OperState, e.links())
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// wantAdminUp checks the IFF_UP flag only (a mode-4 bond without an LACP
// partner may not get carrier).
func (e *vmEnv) wantAdminUp(names ...string) {
	e.t.Helper()
	for _, name := range names {
		if a := e.link(name).Attrs(); a.Flags&net.FlagUp == 0 {
			e.t.Errorf("%s is admin down\n%s", name, e.links())
		}
	}
}

// index is a link's ifindex.
func (e *vmEnv) index(name string) int {
	e.t.Helper()
	return e.link(name).Attrs().Index
}

// sameIndex checks that a link was not re-created.
func (e *vmEnv) sameIndex(name string, before int) {
	e.t.Helper()
	if got := e.index(name); got != before {
		e.t.Errorf("%s ifindex %d → %d: it was re-created", name, before, got)
	}
}

// watch waits until the named link is up, then records every state it goes
// through until the returned function is called, which reports the states
// in which it was not up (admin down, operstate other than up, or deleted).
// (A new link reports operstate unknown or down until the kernel's link
// watch runs, up to a second later: hence the wait.)
func (e *vmEnv) watch(name string) func() []string {
	e.t.Helper()
	e.wantUp(name)
	return watchLink(e.t, e.ns, name).stop
}

// noFlap stops a watch and fails if the link was ever not up.
func (e *vmEnv) noFlap(name string, stop func() []string) {
	e.t.Helper()
	if bad := stop(); len(bad) > 0 {
		e.t.Errorf("%s flapped while it changed: %v", name, bad)
	}
}

// setMAC sets a NIC's MAC out of band.
func (e *vmEnv) setMAC(name, mac string) {
	e.t.Helper()
	hw, err := net.ParseMAC(mac)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.ns.Handle.LinkSetHardwareAddr(e.link(name), hw); err != nil {
		e.t.Fatal(err)
	}
}

// snapshot is the canonical kernel dump plus the attachments, for checking
// that a refused request changed nothing.
func (e *vmEnv) snapshot() string {
	e.t.Helper()
	return dump(e.t, e.ns) + "\n--- attachments\n" + e.attachmentsCanonical()
}
