package xmlapi

// NetworkLabels renders a <network_labels> collection: the labels of a
// NIC (hrefs below nicHref) or of a network.
func NetworkLabels(c Context, labels []string, ownerHref string, owner *Node) *Node {
	n := Elem("network_labels")
	for _, l := range labels {
		item := NetworkLabel(c, l, ownerHref, owner)
		item.Repeated = true
		n.Add(item)
	}
	return n
}

// NetworkLabel renders one label, with a reference to what carries it.
func NetworkLabel(_ Context, label, ownerHref string, owner *Node) *Node {
	return Elem("network_label", owner).WithID(label, ownerHref+"/networklabels/"+label)
}

// NicRef is a reference to a NIC or bond of the host, by name.
func (c Context) NicRef(name string) *Node { return c.nicRef(name) }

// NicHref is where a NIC or bond of the host is, by name.
func (c Context) NicHref(name string) string { return c.nicHref(c.NicID(name)) }

// NetworkRef is a reference to a network of the catalogue.
func NetworkRef(id string) *Node { return Ref("network", id, networkHref(id)) }

// NetworkHref is where a network of the catalogue is.
func NetworkHref(id string) string { return networkHref(id) }

// DecodeNetworkLabel decodes the <network_label id="L"/> of a POST to a
// label collection: its id is the label.
func DecodeNetworkLabel(n *Node) (string, error) {
	e, err := root(n, "network_label")
	if err != nil {
		return "", err
	}
	if err := e.check(nil, nil, "host_nic", "network"); err != nil {
		return "", err
	}
	if e.id() == "" {
		return "", e.fail("a network label needs an id")
	}
	return e.id(), nil
}
