package xmlapi

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/hostnetd/hostnetd/netconf"
)

// The fuzz targets: one per request body the API accepts, in each
// encoding, and one that runs decoded requests through validation and
// planning. Each is seeded with the request samples (testdata/requests)
// and with the hostile inputs and past crashers kept in
// testdata/fuzz/FuzzX; `go test` runs those seeds as ordinary tests, and
// `make fuzz` fuzzes each target for a fixed time.

// sample is one request body of testdata/requests.
type sample struct {
	file string
	root string
	json bool
	body []byte
}

// jsonRoots names the root of each JSON sample, which JSON does not carry.
var jsonRoots = map[string]string{
	"json-attachment-full.json":    "network_attachment",
	"json-network.json":            "network",
	"json-setupnetworks-full.json": "action",
	"json-labels.json":             "action",
}

// samples reads the request samples, and adds a JSON rendering of each XML
// one so that the JSON targets start from every body form too.
func samples(f *testing.F) []sample {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "requests", "*"))
	if err != nil {
		f.Fatal(err)
	}
	var out []sample
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		name := filepath.Base(file)
		if strings.HasSuffix(name, ".json") {
			root, ok := jsonRoots[name]
			if !ok {
				f.Fatalf("%s: add its root to jsonRoots", name)
			}
			out = append(out, sample{name, root, true, body})
			continue
		}
		n, err := ParseXML(body)
		if err != nil {
			f.Fatalf("%s: %v", name, err)
		}
		out = append(out, sample{name, n.Name, false, body}, sample{name + " as JSON", n.Name, true, MarshalJSON(n)})
	}
	return out
}

// seed adds the samples of one root and encoding whose file name passes keep.
func seed(f *testing.F, root string, asJSON bool, keep func(file string) bool) {
	f.Helper()
	added := 0
	for _, s := range samples(f) {
		if s.root == root && s.json == asJSON && (keep == nil || keep(s.file)) {
			f.Add(s.body)
			added++
		}
	}
	if added == 0 {
		f.Fatalf("no sample for <%s> (json %v)", root, asJSON)
	}
}

func isDesign(file string) bool { return strings.HasPrefix(file, "design-") }

func decodeAction(n *Node) (any, error)     { return DecodeSetupNetworks(n) }
func decodeHostNic(n *Node) (any, error)    { return DecodeBond(n) }
func decodeAttachment(n *Node) (any, error) { return DecodeNetworkAttachment(n) }
func decodeNetwork(n *Node) (any, error)    { return DecodeNetwork(n) }

func FuzzSetupNetworksV4(f *testing.F) {
	seed(f, "action", false, func(file string) bool { return !isDesign(file) })
	f.Fuzz(func(t *testing.T, body []byte) { fuzzXML(t, body, decodeAction) })
}

func FuzzSetupNetworksDesign(f *testing.F) {
	seed(f, "action", false, isDesign)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzXML(t, body, decodeAction) })
}

func FuzzHostNic(f *testing.F) {
	seed(f, "host_nic", false, nil)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzXML(t, body, decodeHostNic) })
}

func FuzzNetworkAttachment(f *testing.F) {
	seed(f, "network_attachment", false, nil)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzXML(t, body, decodeAttachment) })
}

func FuzzNetwork(f *testing.F) {
	seed(f, "network", false, nil)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzXML(t, body, decodeNetwork) })
}

func FuzzSetupNetworksJSON(f *testing.F) {
	seed(f, "action", true, nil)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzJSON(t, body, "action", decodeAction) })
}

func FuzzHostNicJSON(f *testing.F) {
	seed(f, "host_nic", true, nil)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzJSON(t, body, "host_nic", decodeHostNic) })
}

func FuzzNetworkAttachmentJSON(f *testing.F) {
	seed(f, "network_attachment", true, nil)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzJSON(t, body, "network_attachment", decodeAttachment) })
}

func FuzzNetworkJSON(f *testing.F) {
	seed(f, "network", true, nil)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzJSON(t, body, "network", decodeNetwork) })
}

// fuzzXML checks one XML body: a parse error is ErrMalformed; a parsed
// tree renders back to XML that parses to the same tree, and to valid
// JSON (answers echo requests in either encoding); then the decoder.
func fuzzXML(t *testing.T, body []byte, decode func(*Node) (any, error)) {
	n, err := ParseXML(body)
	if err != nil {
		checkMalformed(t, err)
		return
	}
	checkXMLRoundTrip(t, n)
	if out := MarshalJSON(n); !json.Valid(out) {
		t.Fatalf("the tree renders as invalid JSON:\n%s", out)
	}
	checkDecode(t, n, decode)
}

// fuzzJSON is fuzzXML for a JSON body: its tree must also render back to
// JSON that parses to the same tree.
func fuzzJSON(t *testing.T, body []byte, root string, decode func(*Node) (any, error)) {
	n, err := ParseJSON(body, root)
	if err != nil {
		checkMalformed(t, err)
		return
	}
	checkXMLRoundTrip(t, n)
	again, err := ParseJSON(MarshalJSON(n), root)
	if err != nil {
		t.Fatalf("the tree's JSON does not parse: %v\n%s", err, MarshalJSON(n))
	}
	if a, b := n.Canonical(), again.Canonical(); a != b {
		t.Fatalf("JSON round trip changed the tree:\n%s\n---\n%s", a, b)
	}
	checkDecode(t, n, decode)
}

func checkMalformed(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("parse error %v is not ErrMalformed", err)
	}
}

func checkXMLRoundTrip(t *testing.T, n *Node) {
	t.Helper()
	out := MarshalXML(n)
	again, err := ParseXML(out)
	if err != nil {
		t.Fatalf("the tree's XML does not parse: %v\n%s", err, out)
	}
	if a, b := n.Canonical(), again.Canonical(); a != b {
		t.Fatalf("XML round trip changed the tree:\n%s\n---\n%s", a, b)
	}
}

// checkDecode decodes twice: the result is deterministic, the tree is not
// changed, an error is a DecodeError with a path and a message, and a
// decoded action's echo renders in both encodings.
func checkDecode(t *testing.T, n *Node, decode func(*Node) (any, error)) {
	t.Helper()
	before := n.Canonical()
	v1, err1 := decode(n)
	v2, err2 := decode(n)
	if n.Canonical() != before {
		t.Fatalf("decoding changed the tree:\n%s\n---\n%s", before, n.Canonical())
	}
	if !reflect.DeepEqual(v1, v2) || !reflect.DeepEqual(err1, err2) {
		t.Fatalf("decoding is not deterministic: %v %v / %v %v", v1, err1, v2, err2)
	}
	if err1 != nil {
		checkDecodeError(t, err1)
		return
	}
	if n.Name == "action" {
		echo := ActionComplete(n)
		if _, err := ParseXML(MarshalXML(echo)); err != nil {
			t.Fatalf("the echo is not XML: %v", err)
		}
		if out := MarshalJSON(echo); !json.Valid(out) {
			t.Fatalf("the echo is not JSON:\n%s", out)
		}
	}
}

func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("decode error %T %v is not a DecodeError", err, err)
	}
	if de.Path == "" || de.Msg == "" || de.Code != "" && !ruleCode.MatchString(de.Code) {
		t.Fatalf("decode error without a path, a message or a valid code: %+v", de)
	}
}

var ruleCode = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// validateRoots are the roots FuzzValidate decodes a JSON body as, by
// kind-1; kind 0 is XML, decoded by its own root.
var validateRoots = []string{"action", "network_attachment", "host_nic", "network"}

// FuzzValidate feeds decoded requests of every kind through validation
// (netconf.Merge, or ApplyNetworkChange and a Merge with the new catalogue
// for a network) against a fixed host, and plans what it accepts. Every
// refusal must be a rule error with a code, and every accepted
// configuration must pass the same validation again unchanged and name
// only devices that can carry it.
func FuzzValidate(f *testing.F) {
	for _, s := range samples(f) {
		kind := uint8(0)
		if s.json {
			kind = uint8(slices.Index(validateRoots, s.root) + 1)
		}
		f.Add(kind, s.body)
	}
	f.Add(uint8(0), []byte(`<action><modified_network_attachments><network_attachment><network id="`+fuzzNetC+`"/><host_nic><name>eth1</name></host_nic>`+
		`<properties><property><name>ethtool_opts</name><value>-K * tso off gro on -G eth1 rx 512 -C eth1 rx-usecs 8 -A eth1 rx off</value></property></properties>`+
		`</network_attachment></modified_network_attachments></action>`))
	f.Add(uint8(0), []byte(`<action><modified_network_attachments><network_attachment id="22222222-2222-2222-2222-222222222222">`+
		`<properties><property><name>ethtool_opts</name><value>--offload * lro off --set-ring eth4 tx 64</value></property></properties>`+
		`</network_attachment></modified_network_attachments></action>`))
	f.Add(uint8(0), []byte(`<action><modified_network_attachments><network_attachment><network id="`+fuzzNetC+`"/><host_nic><name>eth1</name></host_nic>`+
		`<qos><type>hostnetwork</type><outbound_average_linkshare>10</outbound_average_linkshare><outbound_average_upperlimit>20</outbound_average_upperlimit>`+
		`<outbound_average_realtime>5</outbound_average_realtime></qos></network_attachment></modified_network_attachments></action>`))
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		var n *Node
		var err error
		if kind%5 == 0 {
			n, err = ParseXML(body)
		} else {
			n, err = ParseJSON(body, validateRoots[kind%5-1])
		}
		if err != nil {
			checkMalformed(t, err)
			return
		}
		validate(t, n)
	})
}

// validate runs one decoded request the way the agent does, against the
// fixed host of fuzzworld_test.go.
func validate(t *testing.T, n *Node) {
	st, running, nets := fuzzState(), fuzzRunning(), fuzzNetworks()
	var cs netconf.ChangeSet
	var err error
	switch n.Name {
	case "action":
		cs, err = DecodeSetupNetworks(n)
	case "network_attachment":
		var ac netconf.AttachmentChange
		ac, err = DecodeNetworkAttachment(n)
		ac.Create = ac.ID == "" // a POST; with an id, a PUT
		cs.ModifiedAttachments = []netconf.AttachmentChange{ac}
	case "host_nic":
		var bc netconf.BondChange
		bc, err = DecodeBond(n)
		cs.ModifiedBonds = []netconf.BondChange{bc}
	case "network":
		var nc netconf.NetworkChange
		if nc, err = DecodeNetwork(n); err == nil {
			var ok bool
			if nets, ok, err = applyNetworkChange(nets, nc); !ok {
				return
			}
		}
	default:
		return
	}
	if err != nil {
		var de *DecodeError
		if errors.As(err, &de) {
			checkDecodeError(t, err)
			return
		}
		checkRuleError(t, err)
		return
	}
	// Labels expand into attachments first, as the agent does.
	cs, labels, err := netconf.ExpandLabels(netconf.LabelInput{
		Request: cs, Running: running, Networks: nets, NicName: fuzzNicName(st),
		NicExists: func(name string) bool { _, ok := st.Link(name); return ok },
	})
	if err != nil {
		checkRuleError(t, err)
		return
	}
	in := netconf.MergeInput{
		Request: cs, Running: running, Networks: nets, Kernel: st,
		NicName:                fuzzNicName(st),
		NewAttachmentID:        func(netID string) string { return "att-" + netID },
		MaxConnectivityTimeout: 120,
		OutOfSync:              map[string][]string{"789": {"mtu"}},
	}
	cfg, err := netconf.Merge(in)
	if err == nil {
		err = netconf.CheckLabels(labels, cfg, nets, st)
	}
	if err != nil {
		checkRuleError(t, err)
		return
	}
	cfg.Labels = labels
	checkCarriers(t, cfg, nets, st)
	oldT, newT := netconf.BuildTarget(running, fuzzNetworks()), netconf.BuildTarget(cfg, nets)
	_ = netconf.MakePlan(st, oldT, newT).String()
	_ = netconf.MakeScopedPlan(st, oldT, newT, netconf.ChangedDevices(oldT, newT)).String()

	in.Request, in.Running, in.OutOfSync = netconf.ChangeSet{}, cfg, nil
	in.Kernel = appliedState(st, oldT, newT)
	again, err := netconf.Merge(in)
	if err != nil {
		t.Fatalf("an accepted configuration is refused when validated again: %v", err)
	}
	if !again.Equal(cfg) {
		t.Fatalf("validating an accepted configuration again changed it:\n%+v\n---\n%+v", cfg, again)
	}
}

// appliedState is the kernel as applying next over old leaves it, as far
// as validation reads it: the devices only old created are gone and their
// slaves and ports released. An accepted configuration must validate again
// against that kernel, not the one it replaces, where a removed bond still
// holds its slaves.
func appliedState(st *netconf.State, old, next *netconf.Target) *netconf.State {
	gone := map[string]bool{}
	for _, d := range old.Devices {
		if d.Kind != netconf.KindDevice && next.Device(d.Name) == nil {
			gone[d.Name] = true
		}
	}
	out := &netconf.State{Routes: st.Routes}
	for _, l := range st.Links {
		if gone[l.Name] {
			continue
		}
		if gone[l.Master] {
			l.Master = ""
		}
		out.Links = append(out.Links, l)
	}
	return out
}

// applyNetworkChange is the catalogue side of POST and PUT /networks: a
// change naming an existing id updates it, any other creates a network.
// ok is false for what the agent refuses before validation.
func applyNetworkChange(nets []*netconf.Network, nc netconf.NetworkChange) ([]*netconf.Network, bool, error) {
	i := slices.IndexFunc(nets, func(n *netconf.Network) bool { return nc.ID != "" && n.ID == nc.ID })
	var cur *netconf.Network
	id := "new-id"
	if i >= 0 {
		cur, id = nets[i], nets[i].ID
	} else if nc.Name == nil {
		return nil, false, nil // 400: a network needs a name
	}
	n, err := netconf.ApplyNetworkChange(cur, id, nc)
	if err != nil {
		return nil, true, err
	}
	out := slices.Clone(nets)
	if i >= 0 {
		out[i] = n
	} else {
		out = append(out, n)
	}
	names := map[string]bool{}
	for _, n := range out {
		if names[n.Name] {
			return nil, false, nil // 409: the name is in use
		}
		names[n.Name] = true
	}
	return out, true, nil
}

func checkRuleError(t *testing.T, err error) {
	t.Helper()
	var re *netconf.RuleError
	if !errors.As(err, &re) {
		t.Fatalf("validation error %T %v is not a RuleError", err, err)
	}
	if !ruleCode.MatchString(re.Code) || re.Msg == "" {
		t.Fatalf("rule error without a code or a message: %+v", re)
	}
}

// checkCarriers fails if an accepted configuration puts a network on
// something that cannot carry it, would create a device over an existing
// one of another kind, or has a name server that is more than an address.
func checkCarriers(t *testing.T, cfg *netconf.Config, nets []*netconf.Network, st *netconf.State) {
	t.Helper()
	isBond := func(name string) bool {
		return slices.ContainsFunc(cfg.Bonds, func(b netconf.BondConfig) bool { return b.Name == name })
	}
	nicLike := func(name string) bool {
		l, ok := st.Link(name)
		return ok && name != "lo" && (l.Kind == netconf.KindDevice || l.Kind == netconf.KindVeth || l.Kind == netconf.KindDummy)
	}
	for _, b := range cfg.Bonds {
		if l, ok := st.Link(b.Name); ok && l.Kind != netconf.KindBond {
			t.Fatalf("bond %s would replace a %s", b.Name, l.Kind)
		}
		for _, s := range b.Slaves {
			if !nicLike(s) {
				t.Fatalf("bond %s has slave %s, which is not a NIC", b.Name, s)
			}
		}
	}
	for _, a := range cfg.Attachments {
		i := slices.IndexFunc(nets, func(n *netconf.Network) bool { return n.ID == a.NetworkID })
		if i < 0 {
			t.Fatalf("attachment %s names network %s, which is not in the catalogue", a.ID, a.NetworkID)
		}
		net := nets[i]
		if l, ok := st.Link(a.Nic); !isBond(a.Nic) && !nicLike(a.Nic) && !(ok && l.Kind == netconf.KindBond) {
			t.Fatalf("network %s sits on %s, which is neither a NIC nor a bond", net.Name, a.Nic)
		}
		if net.VLAN != nil {
			name := netconf.VLANDeviceName(a.Nic, *net.VLAN)
			if l, ok := st.Link(name); ok && (l.VLAN == nil || l.VLAN.ID != *net.VLAN || l.VLAN.Base != a.Nic) {
				t.Fatalf("network %s's VLAN device %s would replace a %s", net.Name, name, l.Kind)
			}
		}
		if net.Bridged() {
			if l, ok := st.Link(net.Name); ok && l.Kind != netconf.KindBridge {
				t.Fatalf("network %s's bridge would replace the %s %s", net.Name, l.Kind, net.Name)
			}
		}
		// Name servers go to resolv.conf one per line, as they are.
		for _, ns := range slices.Concat(a.DNS, net.DNS) {
			if strings.ContainsFunc(ns, unicode.IsSpace) {
				t.Fatalf("network %s has name server %q, which would write more than an address to resolv.conf", net.Name, ns)
			}
		}
	}
}
