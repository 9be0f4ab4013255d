package xmlapi

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/hostnetd/hostnetd/netconf"
)

// DecodeNetworkAttachment decodes a <network_attachment> body of POST or
// PUT on …/networkattachments. Only the elements present are set.
func DecodeNetworkAttachment(n *Node) (netconf.AttachmentChange, error) {
	e, err := root(n, "network_attachment")
	if err != nil {
		return netconf.AttachmentChange{}, err
	}
	return e.attachment()
}

var attachmentFields = []string{
	"network", "host_nic", "ip_address_assignments", "ip_configuration",
	"properties", "dns_resolver_configuration", "override_configuration", "qos",
}

func (e elem) attachment() (netconf.AttachmentChange, error) {
	ac := netconf.AttachmentChange{ID: e.id()}
	if err := e.check(attachmentFields, nil); err != nil {
		return ac, err
	}
	if err := e.exclusive("ip_address_assignments", "ip_configuration"); err != nil {
		return ac, err
	}
	var err error
	if ac.Network, err = e.optRef("network"); err != nil {
		return ac, err
	}
	if ac.Nic, err = e.optRef("host_nic"); err != nil {
		return ac, err
	}
	if c, ok := e.child("ip_address_assignments"); ok {
		if ac.IP, err = c.ipAssignments(); err != nil {
			return ac, err
		}
	}
	if c, ok := e.child("ip_configuration"); ok {
		if ac.IP, err = c.ipConfiguration(); err != nil {
			return ac, err
		}
	}
	if c, ok := e.child("properties"); ok {
		if ac.Properties, err = c.properties(); err != nil {
			return ac, err
		}
	}
	if ac.DNS, err = e.optDNS(); err != nil {
		return ac, err
	}
	if ac.QoS, err = e.optQoS(); err != nil {
		return ac, err
	}
	ac.Override, _, err = e.boolOf("override_configuration")
	return ac, err
}

// ipAssignments decodes the v4 <ip_address_assignments>.
func (e elem) ipAssignments() (*[]netconf.RawIPAssignment, error) {
	if err := e.check(nil, []string{"ip_address_assignment"}); err != nil {
		return nil, err
	}
	out := []netconf.RawIPAssignment{}
	for c := range e.each("ip_address_assignment") {
		a, err := c.ipAssignment()
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return &out, nil
}

func (e elem) ipAssignment() (netconf.RawIPAssignment, error) {
	var a netconf.RawIPAssignment
	if err := e.check([]string{"assignment_method", "ip"}, nil); err != nil {
		return a, err
	}
	method, err := e.textOf("assignment_method")
	if err != nil {
		return a, err
	}
	a.Method = strings.ToLower(method)
	ip, ok := e.child("ip")
	if !ok {
		return a, nil
	}
	if err := ip.check([]string{"address", "netmask", "gateway", "version"}, nil); err != nil {
		return a, err
	}
	fields := []*string{&a.Address, &a.Netmask, &a.Gateway, &a.Version}
	for i, name := range []string{"address", "netmask", "gateway", "version"} {
		if *fields[i], err = ip.textOf(name); err != nil {
			return a, err
		}
	}
	a.Version = strings.ToLower(a.Version)
	return a, nil
}

// ipConfiguration decodes the design page's
// <ip_configuration><ipv4s>[<boot_protocol>]<ipv4>…</ipv4>…</ipv4s>: one IPv4
// assignment, from the primary entry or the only one.
func (e elem) ipConfiguration() (*[]netconf.RawIPAssignment, error) {
	out := []netconf.RawIPAssignment{}
	if err := e.check([]string{"ipv4s"}, nil); err != nil {
		return nil, err
	}
	v4s, ok := e.child("ipv4s")
	if !ok {
		return &out, nil
	}
	if err := v4s.check([]string{"boot_protocol"}, []string{"ipv4"}); err != nil {
		return nil, err
	}
	method, err := v4s.optText("boot_protocol")
	if err != nil {
		return nil, err
	}
	entry, err := v4s.primaryIPv4()
	if err != nil {
		return nil, err
	}
	if entry == nil {
		if method != nil {
			out = append(out, netconf.RawIPAssignment{Method: strings.ToLower(*method), Version: "v4"})
		}
		return &out, nil
	}
	a, err := entry.ipv4(method)
	if err != nil {
		return nil, err
	}
	out = append(out, a)
	return &out, nil
}

// primaryIPv4 picks the <ipv4> with primary=true, or the only one; nil when
// there is none.
func (e elem) primaryIPv4() (*elem, error) {
	entries := e.all("ipv4")
	var primary []elem
	for _, c := range entries {
		if err := c.check([]string{"boot_protocol", "address", "netmask", "gateway", "primary"}, nil); err != nil {
			return nil, err
		}
		if p, _, err := c.boolOf("primary"); err != nil {
			return nil, err
		} else if p {
			primary = append(primary, c)
		}
	}
	switch {
	case len(entries) == 0:
		return nil, nil
	case len(entries) == 1:
		return &entries[0], nil
	case len(primary) == 1:
		return &primary[0], nil
	case len(primary) == 0:
		return nil, entries[0].fail("several ipv4 entries and none is primary")
	}
	return nil, primary[1].fail("more than one ipv4 entry is primary")
}

// ipv4 decodes one design-page <ipv4>; outer is the boot_protocol given
// directly under <ipv4s>, if any.
func (e elem) ipv4(outer *string) (netconf.RawIPAssignment, error) {
	a := netconf.RawIPAssignment{Version: "v4"}
	inner, err := e.optText("boot_protocol")
	if err != nil {
		return a, err
	}
	switch {
	case inner != nil && outer != nil && !strings.EqualFold(*inner, *outer):
		c, _ := e.child("boot_protocol")
		return a, c.fail("boot_protocol " + quote(*inner) + " contradicts ipv4s/boot_protocol " + quote(*outer))
	case inner != nil:
		a.Method = strings.ToLower(*inner)
	case outer != nil:
		a.Method = strings.ToLower(*outer)
	}
	fields := []*string{&a.Address, &a.Netmask, &a.Gateway}
	for i, name := range []string{"address", "netmask", "gateway"} {
		if *fields[i], err = e.textOf(name); err != nil {
			return a, err
		}
	}
	return a, nil
}

// properties decodes <properties><property><name/><value/></property>….
func (e elem) properties() (*map[string]string, error) {
	if err := e.check(nil, []string{"property"}); err != nil {
		return nil, err
	}
	props := map[string]string{}
	for p := range e.each("property") {
		if err := p.check([]string{"name", "value"}, nil); err != nil {
			return nil, err
		}
		name, err := p.textOf("name")
		if err != nil {
			return nil, err
		}
		value, err := p.textOf("value")
		if err != nil {
			return nil, err
		}
		if _, dup := props[name]; dup {
			return nil, p.fail("duplicated property " + quote(name))
		}
		props[name] = value
	}
	return &props, nil
}

// AttachmentView is an attachment with the network it carries, for
// rendering.
type AttachmentView struct {
	Attachment *netconf.Attachment
	Network    *netconf.Network
	// Reported is how the attachment compares with the kernel; nil when
	// not computed (in sync is then reported).
	Reported []netconf.Reported
}

// NetworkAttachments renders the <network_attachments> collection.
func NetworkAttachments(c Context, items []AttachmentView) *Node {
	n := Elem("network_attachments")
	for _, it := range items {
		item := AttachmentViewNode(c, it)
		item.Repeated = true
		n.Add(item)
	}
	return n
}

// AttachmentViewNode renders an attachment with how it compares with the
// kernel: in_sync, and a reported_configuration per field compared.
func AttachmentViewNode(c Context, v AttachmentView) *Node {
	n := NetworkAttachmentNode(c, v.Attachment, v.Network)
	if v.Reported == nil {
		return n
	}
	inSync, _ := netconf.InSync(v.Reported)
	items := make([]*Node, 0, len(v.Reported))
	for _, r := range v.Reported {
		items = append(items, Elem("reported_configuration",
			Text("name", r.Name),
			OptText("expected_value", r.Expected),
			OptText("actual_value", r.Actual),
			Bool("in_sync", r.InSync),
		))
	}
	for _, c := range n.Children {
		if c.Name == "in_sync" {
			c.Text = strconv.FormatBool(inSync)
		}
	}
	return n.Add(List("reported_configurations", items...))
}

// NetworkAttachmentNode renders one attachment as a <network_attachment>.
// net is the network it carries; its id is used when the attachment has
// none.
func NetworkAttachmentNode(c Context, a *netconf.Attachment, net *netconf.Network) *Node {
	netID := a.NetworkID
	if netID == "" && net != nil {
		netID = net.ID
	}
	n := Elem("network_attachment").WithID(a.ID, c.hostHref()+"/networkattachments/"+a.ID)
	n.Add(Ref("network", netID, networkHref(netID)))
	if a.Nic != "" {
		n.Add(c.nicRef(a.Nic))
	}
	n.Add(
		c.hostRef(),
		Bool("in_sync", true),
		ipAddressAssignments(a),
		propertiesNode(a.Properties),
		dnsNode(a.DNS),
		attachmentQoSNode(a.QoS),
	)
	return n
}

// ipAddressAssignments renders IPv4 always and IPv6 when configured; static
// addresses beyond the primary one follow as further static assignments.
func ipAddressAssignments(a *netconf.Attachment) *Node {
	items := familyAssignments(a.IPv4, "v4")
	if a.IPv6.Method != "" {
		items = append(items, familyAssignments(a.IPv6, "v6")...)
	}
	return List("ip_address_assignments", items...)
}

func familyAssignments(cfg netconf.IPConfig, version string) []*Node {
	method := string(cfg.Method)
	if method == "" {
		method = string(netconf.BootNone)
	}
	ip := Elem("ip")
	if len(cfg.Addrs) > 0 {
		ip.Add(Text("address", cfg.Addrs[0].Addr().String()))
	}
	if cfg.Gateway.IsValid() {
		ip.Add(Text("gateway", cfg.Gateway.String()))
	}
	if len(cfg.Addrs) > 0 {
		ip.Add(Text("netmask", netmask(cfg.Addrs[0])))
	}
	ip.Add(Text("version", version))
	out := []*Node{Elem("ip_address_assignment", Text("assignment_method", method), ip)}
	for _, p := range cfg.Addrs[min(1, len(cfg.Addrs)):] {
		out = append(out, Elem("ip_address_assignment",
			Text("assignment_method", string(netconf.BootStatic)),
			Elem("ip",
				Text("address", p.Addr().String()),
				Text("netmask", netmask(p)),
				Text("version", version),
			),
		))
	}
	return out
}

func propertiesNode(props map[string]string) *Node {
	if len(props) == 0 {
		return nil
	}
	var items []*Node
	for _, k := range slices.Sorted(maps.Keys(props)) {
		items = append(items, Elem("property", Text("name", k), Text("value", props[k])))
	}
	return List("properties", items...)
}

// dnsNode renders name servers in the nested form, the one the SDK reads.
func dnsNode(servers []string) *Node {
	if len(servers) == 0 {
		return nil
	}
	items := make([]*Node, len(servers))
	for i, s := range servers {
		items[i] = Text("name_server", s)
	}
	return Elem("dns_resolver_configuration", List("name_servers", items...))
}
