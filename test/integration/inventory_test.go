package integration

import (
	"net"
	"net/http"
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

// inventoryHost builds three veth NICs: eth0 with two static IPv4 addresses,
// a static IPv6 address and the default route; eth1 with a DHCP-like address
// (finite lifetime) and MTU 9000; eth2 a port of bridge br0, which carries an
// address of its own.
func inventoryHost(t *testing.T) (host, peer *kernel.Namespace) {
	host, peer = nstest.New(t), nstest.New(t)
	for i := range 3 {
		nstest.Veth(t, host, "eth"+strconv.Itoa(i), peer, "p"+strconv.Itoa(i))
	}
	h := host.Handle
	eth0, eth1, eth2 := nstest.Link(t, host, "eth0"), nstest.Link(t, host, "eth1"), nstest.Link(t, host, "eth2")
	addAddr(t, h, eth0, "192.0.2.10/24", 0)
	addAddr(t, h, eth0, "192.0.2.11/24", 0)
	addAddr(t, h, eth0, "2001:db8::10/64", 0)
	addAddr(t, h, eth1, "198.51.100.5/24", 300)
	if err := h.LinkSetMTU(eth1, 9000); err != nil {
		t.Fatal(err)
	}
	if err := h.RouteAdd(&netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: net.ParseIP("192.0.2.1")}); err != nil {
		t.Fatalf("adding the default route: %v", err)
	}
	if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "br0"}}); err != nil {
		t.Fatal(err)
	}
	br := nstest.SetUp(t, host, "br0")
	if err := h.LinkSetMaster(eth2, br); err != nil {
		t.Fatal(err)
	}
	addAddr(t, h, br, "203.0.113.1/24", 0)
	// The bridge gets carrier from its port a moment later; tests compare
	// two reads, which must not straddle that.
	for deadline := time.Now().Add(eventWait); nstest.Link(t, host, "br0").Attrs().OperState != netlink.OperUp; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("br0 did not come up within 5 s")
		}
	}
	return host, peer
}

// addAddr adds an address; a non-zero lifetime makes it dynamic, as a DHCP
// client installs its lease.
func addAddr(t *testing.T, h *netlink.Handle, link netlink.Link, cidr string, lifetime int) {
	t.Helper()
	a, err := netlink.ParseAddr(cidr)
	if err != nil {
		t.Fatal(err)
	}
	a.Flags = unix.IFA_F_NODAD
	if lifetime > 0 {
		a.ValidLft, a.PreferedLft = lifetime, lifetime
	}
	if err := h.AddrAdd(link, a); err != nil {
		t.Fatalf("adding %s to %s: %v", cidr, link.Attrs().Name, err)
	}
}

func parseXML(t *testing.T, r agenttest.Response) *xmlapi.Node {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/xml" {
		t.Fatalf("Content-Type = %q; want application/xml", ct)
	}
	n, err := xmlapi.ParseXML(r.Body)
	if err != nil {
		t.Fatalf("parsing the answer: %v\n%s", err, r.Body)
	}
	return n
}

func nicsByName(t *testing.T, doc *xmlapi.Node) map[string]*xmlapi.Node {
	t.Helper()
	out := map[string]*xmlapi.Node{}
	for _, n := range doc.All("host_nic") {
		out[n.Child("name").Text] = n
	}
	return out
}

func text(n *xmlapi.Node, path ...string) string {
	for _, p := range path {
		n = n.Child(p)
	}
	if n == nil {
		return ""
	}
	return n.Text
}

// TestListNicsMatchesNetlink compares every field of GET /nics with what
// netlink reports for each link of the namespace.
func TestListNicsMatchesNetlink(t *testing.T) {
	host, _ := inventoryHost(t)
	ag := agenttest.Start(t, host)
	r := ag.Get(t, ag.HostPath()+"/nics")
	if r.Status != http.StatusOK {
		t.Fatalf("GET /nics: %d\n%s", r.Status, r.Body)
	}
	nics := nicsByName(t, parseXML(t, r))

	links, err := host.Handle.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	if len(nics) != len(links)-1 {
		t.Errorf("GET /nics lists %d interfaces; the namespace has %d besides lo", len(nics), len(links)-1)
	}
	for _, l := range links {
		a := l.Attrs()
		if a.Name == "lo" {
			if _, listed := nics["lo"]; listed {
				t.Error("loopback is listed")
			}
			continue
		}
		nic, ok := nics[a.Name]
		if !ok {
			t.Errorf("%s is missing from GET /nics", a.Name)
			continue
		}
		checkNicAgainstNetlink(t, host, nic, l)
	}

	eth0 := nics["eth0"]
	if got := text(eth0, "ip", "address"); got != "192.0.2.10" {
		t.Errorf("eth0 ip = %q; want the primary 192.0.2.10", got)
	}
	if got := text(eth0, "ip", "netmask"); got != "255.255.255.0" {
		t.Errorf("eth0 netmask = %q; want 255.255.255.0", got)
	}
	if got := text(eth0, "ip", "gateway"); got != "192.0.2.1" {
		t.Errorf("eth0 gateway = %q; want 192.0.2.1", got)
	}
	if got := text(eth0, "ipv6", "address"); got != "2001:db8::10" {
		t.Errorf("eth0 ipv6 = %q; want 2001:db8::10", got)
	}
	if got := text(eth0, "ipv6", "netmask"); got != "64" {
		t.Errorf("eth0 ipv6 netmask = %q; want 64", got)
	}
	wantProto := map[string][2]string{
		"eth0": {"static", "static"}, "eth1": {"dhcp", "none"}, "eth2": {"none", "none"}, "br0": {"static", "none"},
	}
	for name, want := range wantProto {
		if got := text(nics[name], "boot_protocol"); got != want[0] {
			t.Errorf("%s boot_protocol = %q; want %q", name, got, want[0])
		}
		if got := text(nics[name], "ipv6_boot_protocol"); got != want[1] {
			t.Errorf("%s ipv6_boot_protocol = %q; want %q", name, got, want[1])
		}
	}
	if got := text(nics["eth2"], "bridged"); got != "true" {
		t.Errorf("eth2 (a bridge port) bridged = %q; want true", got)
	}
	if got := text(nics["eth0"], "bridged"); got != "false" {
		t.Errorf("eth0 bridged = %q; want false", got)
	}
	if got := text(nics["eth0"], "speed"); got != "10000000000" {
		t.Errorf("eth0 speed = %q; want 10000000000 (veth reports 10 Gb/s)", got)
	}
}

func checkNicAgainstNetlink(t *testing.T, ns *kernel.Namespace, nic *xmlapi.Node, l netlink.Link) {
	t.Helper()
	a := l.Attrs()
	if got, want := text(nic, "mac", "address"), a.HardwareAddr.String(); got != want {
		t.Errorf("%s mac = %q; want %q", a.Name, got, want)
	}
	if got, want := text(nic, "mtu"), strconv.Itoa(a.MTU); got != want {
		t.Errorf("%s mtu = %q; want %q", a.Name, got, want)
	}
	wantStatus := ""
	switch a.OperState {
	case netlink.OperUp:
		wantStatus = "up"
	case netlink.OperDown, netlink.OperLowerLayerDown:
		wantStatus = "down"
	}
	if got := text(nic, "status"); got != wantStatus {
		t.Errorf("%s status = %q; want %q (operstate %s)", a.Name, got, wantStatus, a.OperState)
	}
	addrs, err := ns.Handle.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, ad := range addrs {
		ones, _ := ad.Mask.Size()
		want = append(want, ad.IP.String()+"/"+strconv.Itoa(ones))
	}
	for _, item := range nic.Child("ip_addresses").All("ip_address") {
		got = append(got, text(item, "address")+"/"+text(item, "prefix"))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%s addresses = %v; want %v", a.Name, got, want)
	}
	if id, _ := nic.Attr("id"); id == "" {
		t.Errorf("%s has no id", a.Name)
	}
}

// TestNicsJSONCarriesTheXMLData checks that the JSON answer holds exactly
// the data of the XML one.
func TestNicsJSONCarriesTheXMLData(t *testing.T) {
	host, _ := inventoryHost(t)
	ag := agenttest.Start(t, host)
	rx := ag.Get(t, ag.HostPath()+"/nics")
	rj := ag.Get(t, ag.HostPath()+"/nics", "Accept: application/json")
	if rj.Status != http.StatusOK || rj.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("JSON GET: %d %s\n%s", rj.Status, rj.Header.Get("Content-Type"), rj.Body)
	}
	fromXML := parseXML(t, rx)
	fromJSON, err := xmlapi.ParseJSON(rj.Body, "host_nics")
	if err != nil {
		t.Fatalf("parsing JSON: %v\n%s", err, rj.Body)
	}
	// Statistics counters may move between the two reads; the documents
	// here carry none.
	if got, want := fromJSON.Canonical(), fromXML.Canonical(); got != want {
		t.Errorf("JSON and XML differ:\n--- json\n%s\n--- xml\n%s", got, want)
	}
}

// TestAddressAddedOutsideShowsUp adds addresses behind the agent's back, as
// `ip -n NS addr add` would, and expects the next GET to report them with
// the right boot protocol.
func TestAddressAddedOutsideShowsUp(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	nstest.Veth(t, host, "eth1", peer, "p1")
	ag := agenttest.Start(t, host)
	path := ag.HostPath() + "/nics/eth0"
	if got := text(parseXML(t, ag.Get(t, path)), "boot_protocol"); got != "none" {
		t.Fatalf("boot_protocol before = %q; want none", got)
	}
	addAddr(t, host.Handle, nstest.Link(t, host, "eth0"), "192.0.2.50/24", 0)
	nic := parseXML(t, ag.Get(t, path))
	if got := text(nic, "boot_protocol"); got != "static" {
		t.Errorf("boot_protocol after a permanent address = %q; want static", got)
	}
	if got := text(nic, "ip", "address"); got != "192.0.2.50" {
		t.Errorf("ip = %q; want 192.0.2.50", got)
	}
	addAddr(t, host.Handle, nstest.Link(t, host, "eth1"), "198.51.100.7/24", 120)
	nic = parseXML(t, ag.Get(t, ag.HostPath()+"/nics/eth1"))
	if got := text(nic, "boot_protocol"); got != "dhcp" {
		t.Errorf("boot_protocol after an address with a lifetime = %q; want dhcp", got)
	}
}

func TestNicByIDAndStatistics(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	ag := agenttest.Start(t, host)
	list := nicsByName(t, parseXML(t, ag.Get(t, ag.HostPath()+"/nics")))
	id, _ := list["eth0"].Attr("id")
	nic := parseXML(t, ag.Get(t, ag.HostPath()+"/nics/"+id))
	if got := text(nic, "name"); got != "eth0" {
		t.Errorf("GET by id: name = %q; want eth0", got)
	}
	stats := parseXML(t, ag.Get(t, ag.HostPath()+"/nics/"+id+"/statistics"))
	names := map[string]string{}
	for _, s := range stats.All("statistic") {
		names[text(s, "name")] = text(s.Child("values").Child("value"), "datum")
	}
	link := nstest.Link(t, host, "eth0")
	for _, name := range []string{"data.total.rx", "data.total.tx", "errors.total.rx", "errors.total.tx", "packets.total.rx", "drops.total.rx"} {
		if _, ok := names[name]; !ok {
			t.Errorf("statistic %s is missing", name)
		}
	}
	if got, err := strconv.ParseUint(names["data.total.tx"], 10, 64); err != nil || got > link.Attrs().Statistics.TxBytes {
		t.Errorf("data.total.tx = %q; want a number no larger than netlink's %d read after it", names["data.total.tx"], link.Attrs().Statistics.TxBytes)
	}
}

// TestNicNetworkLabelsAreAnEmptyList: hostnetd has no labels, and a NIC's
// networklabels (which ovirt_host_network reads before a detach) is an
// empty list, in XML and JSON; an unknown NIC is 404.
func TestNicNetworkLabelsAreAnEmptyList(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	ag := agenttest.Start(t, host)
	r := ag.Get(t, ag.HostPath()+"/nics/eth0/networklabels")
	if r.Status != http.StatusOK {
		t.Fatalf("GET networklabels: %d %s", r.Status, r.Body)
	}
	if doc := parseXML(t, r); doc.Name != "network_labels" || len(doc.Children) != 0 {
		t.Errorf("networklabels = %s; want an empty <network_labels/>", r.Body)
	}
	if r := ag.Get(t, ag.HostPath()+"/nics/eth0/networklabels", "Accept: application/json"); r.Status != http.StatusOK || strings.TrimSpace(string(r.Body)) != "{}" {
		t.Errorf("JSON networklabels: %d %s; want {}", r.Status, r.Body)
	}
	if r := ag.Get(t, ag.HostPath()+"/nics/nosuch/networklabels"); r.Status != http.StatusNotFound {
		t.Errorf("unknown NIC: %d; want 404", r.Status)
	}
}
