package xmlapi

import (
	"slices"

	"github.com/hostnetd/hostnetd/netconf"
)

// DecodeSetupNetworks decodes the <action> body of POST
// /hosts/{id}/setupnetworks, in its v4 form or with the design page's
// aliases: <bonds> for <modified_bonds>, <network_attachments> for
// <modified_network_attachments>, and the move form
// <network_attachments id="X"><host_nic …/></network_attachments>, which
// is one modified attachment.
func DecodeSetupNetworks(n *Node) (netconf.ChangeSet, error) {
	var cs netconf.ChangeSet
	e, err := root(n, "action")
	if err != nil {
		return cs, err
	}
	one := []string{
		"modified_bonds", "bonds", "removed_bonds", "modified_labels", "removed_labels",
		"modified_network_attachments", "removed_network_attachments", "synchronized_network_attachments",
		"check_connectivity", "connectivity_timeout", "commit_on_success", "async",
	}
	if err := e.check(one, []string{"network_attachments"}); err != nil {
		return cs, err
	}
	if err := e.exclusive("modified_bonds", "bonds"); err != nil {
		return cs, err
	}
	if err := e.attachmentLists(); err != nil {
		return cs, err
	}
	// Walk in document order, so modified entries keep the sender's order
	// whichever wrapper or alias carries them.
	for _, c := range e.n.Children {
		if err := e.sub(c).setupNetworksChild(&cs); err != nil {
			return cs, err
		}
	}
	if cs.CheckConnectivity, _, err = e.boolOf("check_connectivity"); err != nil {
		return cs, err
	}
	if cs.CommitOnSuccess, _, err = e.boolOf("commit_on_success"); err != nil {
		return cs, err
	}
	if cs.Async, _, err = e.boolOf("async"); err != nil {
		return cs, err
	}
	cs.ConnectivityTimeout, err = e.textOf("connectivity_timeout")
	return cs, err
}

// attachmentLists refuses more than one list of modified attachments: a
// <network_attachments> without id is an alias of
// <modified_network_attachments>; with an id it is the move form, which
// may repeat.
func (e elem) attachmentLists() error {
	lists := 0
	if e.n.Child("modified_network_attachments") != nil {
		lists++
	}
	for c := range e.each("network_attachments") {
		if _, move := c.n.Attr("id"); move {
			continue
		}
		if lists++; lists > 1 {
			return c.fail("duplicated element (alias of modified_network_attachments)")
		}
	}
	return nil
}

// setupNetworksChild decodes the lists of an action; the scalars are read
// by DecodeSetupNetworks.
func (e elem) setupNetworksChild(cs *netconf.ChangeSet) error {
	switch e.n.Name {
	case "modified_bonds", "bonds":
		return e.modifiedBonds(cs)
	case "removed_bonds":
		refs, err := e.refs("host_nic")
		if err == nil {
			cs.RemovedBonds = append(cs.RemovedBonds, *refs...)
		}
		return err
	case "network_attachments":
		if _, move := e.n.Attr("id"); move {
			ac, err := e.attachment()
			if err == nil {
				cs.ModifiedAttachments = append(cs.ModifiedAttachments, ac)
			}
			return err
		}
		return e.modifiedAttachments(cs)
	case "modified_network_attachments":
		return e.modifiedAttachments(cs)
	case "removed_network_attachments":
		return e.removedAttachments(cs)
	case "synchronized_network_attachments":
		return e.syncedAttachments(cs)
	case "modified_labels":
		return e.eachLabel(func(label string, l elem) error {
			nic, ok := l.child("host_nic")
			if !ok {
				return l.fail("a modified label names no host_nic")
			}
			ref, err := nic.ref()
			if err == nil {
				cs.ModifiedLabels = append(cs.ModifiedLabels, netconf.LabelChange{Label: label, Nic: ref})
			}
			return err
		})
	case "removed_labels":
		return e.eachLabel(func(label string, _ elem) error {
			cs.RemovedLabels = append(cs.RemovedLabels, label)
			return nil
		})
	}
	return nil
}

// eachLabel decodes a list of <network_label id="L"> with an optional
// host_nic reference.
func (e elem) eachLabel(add func(label string, l elem) error) error {
	if err := e.check(nil, []string{"network_label"}); err != nil {
		return err
	}
	for l := range e.each("network_label") {
		if err := l.check([]string{"host_nic"}, nil, "network"); err != nil {
			return err
		}
		label := l.id()
		if label == "" {
			return l.fail("a network label needs an id")
		}
		if err := add(label, l); err != nil {
			return err
		}
	}
	return nil
}

func (e elem) modifiedBonds(cs *netconf.ChangeSet) error {
	if err := e.check(nil, []string{"host_nic"}); err != nil {
		return err
	}
	for c := range e.each("host_nic") {
		bc, err := c.bond()
		if err != nil {
			return err
		}
		cs.ModifiedBonds = append(cs.ModifiedBonds, bc)
	}
	return nil
}

// modifiedAttachments decodes a list of attachments. An empty
// <network_attachment/> stays in the list, all fields nil, for the engine
// to refuse (NULL_PASSED_AS_NETWORK_ATTACHMENT).
func (e elem) modifiedAttachments(cs *netconf.ChangeSet) error {
	cs.ModifiedAttachments = slices.Grow(cs.ModifiedAttachments, len(e.n.Children))
	return e.eachAttachment(func(ac netconf.AttachmentChange) {
		cs.ModifiedAttachments = append(cs.ModifiedAttachments, ac)
	})
}

// removedAttachments takes each attachment's id, or its network when it
// has no id. The other fields are checked but unused: clients commonly
// pass back the attachment they listed.
func (e elem) removedAttachments(cs *netconf.ChangeSet) error {
	return e.eachAttachment(func(ac netconf.AttachmentChange) {
		r := netconf.AttachmentRef{ID: ac.ID}
		if ac.ID == "" && ac.Network != nil {
			r.Network = *ac.Network
		}
		cs.RemovedAttachments = append(cs.RemovedAttachments, r)
	})
}

// syncedAttachments takes each attachment's id; a missing id is left for
// the engine to report as unknown.
func (e elem) syncedAttachments(cs *netconf.ChangeSet) error {
	return e.eachAttachment(func(ac netconf.AttachmentChange) {
		cs.SyncedAttachments = append(cs.SyncedAttachments, ac.ID)
	})
}

func (e elem) eachAttachment(add func(netconf.AttachmentChange)) error {
	if err := e.check(nil, []string{"network_attachment"}); err != nil {
		return err
	}
	for c := range e.each("network_attachment") {
		ac, err := c.attachment()
		if err != nil {
			return err
		}
		add(ac)
	}
	return nil
}

// ActionComplete is the answer to a successful setupnetworks: the
// request's <action> with <status>complete</status> appended. It turns
// echo itself into the answer, which the caller gives up: a copy of a
// request for thousands of networks was a fifth of a re-apply that
// changes nothing.
func ActionComplete(echo *Node) *Node {
	if echo == nil {
		return actionEcho(nil, "complete")
	}
	return asEcho(echo, "complete")
}

// actionEcho is a copy of echo (which stays as it is) turned into an
// answer with that status.
func actionEcho(echo *Node, status string) *Node {
	if echo == nil {
		return Elem("action", Text("status", status))
	}
	return asEcho(copyNode(echo), status)
}

// asEcho turns the <action> n into an answer: typed for JSON, without the
// request's own status or fault, with status appended.
func asEcho(n *Node, status string) *Node {
	typeEcho(n)
	n.Children = slices.DeleteFunc(n.Children, func(c *Node) bool { return c.Name == "status" || c.Name == "fault" })
	return n.Add(Text("status", status))
}

// ActionAccepted is the answer to an accepted async setupnetworks: the
// request's <action> with <status>in_progress</status>, whose id and href
// name the action resource that follows it (ActionOutcome), as the
// engine's actions accepted with async do.
func ActionAccepted(c Context, echo *Node, id string) *Node {
	return ActionOutcome(c, echo, id, "in_progress", nil)
}

// ActionOutcome is an async setupnetworks as it stands: the request's
// <action> with its id and href, its status (in_progress, complete or
// failed) and, once failed, its fault.
func ActionOutcome(c Context, echo *Node, id, status string, fault *Fault) *Node {
	out := actionEcho(echo, status)
	out.Attrs = slices.DeleteFunc(out.Attrs, func(a Attr) bool { return a.Name == "id" || a.Name == "href" })
	out.WithID(id, c.SetupNetworksHref(id))
	if fault != nil {
		out.Children = slices.Insert(out.Children, len(out.Children)-1, FaultNode(*fault))
	}
	return out
}

// ActionStatus is the answer to commitnetconfig and syncallnetworks.
func ActionStatus(c Context, status string) *Node {
	return Elem("action", c.hostRef(), Text("status", status))
}

// ActionFault is an action's failure answer: the fault inside the action.
func ActionFault(f Fault) *Node {
	return Elem("action", FaultNode(f), Text("status", "failed"))
}

// listItems names the items of the lists an action may echo, so that an
// echo parsed from XML renders its lists as JSON arrays.
var listItems = map[string]string{
	"modified_bonds": "host_nic", "bonds": "host_nic", "removed_bonds": "host_nic", "slaves": "host_nic",
	"options": "option", "properties": "property", "usages": "usage", "ipv4s": "ipv4",
	"modified_network_attachments": "network_attachment", "network_attachments": "network_attachment",
	"removed_network_attachments": "network_attachment", "synchronized_network_attachments": "network_attachment",
	"ip_address_assignments": "ip_address_assignment", "name_servers": "name_server",
	"modified_labels": "network_label", "removed_labels": "network_label",
}

// echoScalars types the scalars an action may echo, so that an echo
// parsed from XML renders them as JSON booleans and numbers.
var echoScalars = map[string]Scalar{
	"check_connectivity": Boolean, "commit_on_success": Boolean, "async": Boolean,
	"override_configuration": Boolean, "primary": Boolean, "connectivity_timeout": Number,
}

// typeEcho types the tree under n for JSON as an echo: its booleans and
// numbers, and its lists and repeated names as arrays.
func typeEcho(n *Node) {
	if kind, ok := echoScalars[n.Name]; ok && n.Scalar == String && len(n.Children) == 0 {
		n.Scalar = kind
	}
	if len(n.Children) == 0 {
		return
	}
	var counts map[string]int // for long lists, where repeatedName is quadratic
	if len(n.Children) > 16 {
		counts = make(map[string]int, len(n.Children))
		for _, c := range n.Children {
			counts[c.Name]++
		}
	}
	item := listItems[n.Name]
	for i, c := range n.Children {
		typeEcho(c)
		if item == c.Name || counts != nil && counts[c.Name] > 1 || counts == nil && repeatedName(n.Children, i) {
			c.Repeated = true
		}
	}
}

// copyNode returns a deep copy of n. The copy is cut from two
// allocations, its nodes and its child lists, however large the tree: an
// echoed setupnetworks for 1000 networks has 15,000 elements.
func copyNode(n *Node) *Node {
	nodes, children := treeSize(n)
	c := treeCopier{nodes: make([]Node, 0, nodes), children: make([]*Node, 0, children)}
	return c.copy(n)
}

// treeSize counts the nodes of the tree under n, and the child links.
func treeSize(n *Node) (nodes, children int) {
	nodes = 1
	for _, c := range n.Children {
		cn, cc := treeSize(c)
		nodes, children = nodes+cn, children+cc+1
	}
	return nodes, children
}

// treeCopier hands out the nodes and child lists of a copy from slabs
// sized by treeSize.
type treeCopier struct {
	nodes    []Node
	children []*Node
}

func (t *treeCopier) copy(n *Node) *Node {
	t.nodes = append(t.nodes, *n)
	out := &t.nodes[len(t.nodes)-1]
	out.Attrs = slices.Clone(n.Attrs)
	if len(n.Children) == 0 {
		out.Children = nil
		return out
	}
	start := len(t.children)
	t.children = t.children[:start+len(n.Children)]
	kids := t.children[start : start+len(n.Children) : start+len(n.Children)]
	for i, c := range n.Children {
		kids[i] = t.copy(c)
	}
	out.Children = kids
	return out
}

// repeatedName says whether another of children has the name of
// children[i].
func repeatedName(children []*Node, i int) bool {
	for j, c := range children {
		if j != i && c.Name == children[i].Name {
			return true
		}
	}
	return false
}
