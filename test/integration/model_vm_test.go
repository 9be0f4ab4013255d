//go:build vmtest

package integration

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// TestVMModelRandomSequences drives hostnetd on Debian's kernel through
// random sequences of setupnetworks and network edits over NICs, bonds,
// VLANs and bridged and bridgeless networks, through the HTTP API. The test
// keeps its own model of what it asked and hostnetd accepted. After every
// accepted step the kernel's graph (read with netlink) equals the one the
// model's configuration derives, every attachment is in sync and
// re-sending the request makes 0 kernel writes; a refused one changes
// nothing; a failure injected at a random step rolls the host back to the
// exact dump it had. A fixed seed runs always, and a fresh one, printed on
// failure so that it can join the fixed ones (HOSTNETD_MODEL_SEED replays
// one; HOSTNETD_MODEL_STEPS sets the length).
func TestVMModelRandomSequences(t *testing.T) {
	steps := 60
	if s, err := strconv.Atoi(os.Getenv("HOSTNETD_MODEL_STEPS")); err == nil {
		steps = s
	}
	seeds := []uint64{19}
	if s, err := strconv.ParseUint(os.Getenv("HOSTNETD_MODEL_SEED"), 10, 64); err == nil {
		seeds = []uint64{s}
	} else {
		seeds = append(seeds, uint64(time.Now().UnixNano()))
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) {
			m := newVMModel(t, seed)
			for range steps {
				m.step()
			}
			t.Logf("seed %d: %d steps, %d applied, %d refused, %d rolled back", seed, steps, m.applied, m.refused, m.rolledBack)
		})
	}
}

// vmModelNet is a network of the model's catalogue.
type vmModelNet struct {
	id, name string
	vlan     int // 0: untagged
	mtu      int
	vm       bool
}

func (n vmModelNet) xml() string {
	s := `<network><name>` + n.name + `</name>`
	if n.vlan != 0 {
		s += `<vlan id="` + strconv.Itoa(n.vlan) + `"/>`
	} else {
		s += `<vlan/>`
	}
	s += `<mtu>` + strconv.Itoa(n.mtu) + `</mtu><usages>`
	if n.vm {
		s += `<usage>vm</usage>`
	}
	return s + `</usages></network>`
}

func (n vmModelNet) network() *netconf.Network {
	out := &netconf.Network{ID: n.id, Name: n.name, MTU: n.mtu}
	if n.vlan != 0 {
		v := n.vlan
		out.VLAN = &v
	}
	if n.vm {
		out.Usages = []string{netconf.UsageVM}
	}
	return out
}

type vmModel struct {
	*vmEnv
	seed    uint64
	rng     *rand.Rand
	nics    []string
	nets    []vmModelNet
	attach  map[string]string   // network id → NIC or bond
	bonds   map[string][]string // bond → slaves
	history []string
	// failAt is the step the next transaction fails at (1-based; 0: none).
	failAt                       atomic.Int64
	applied, refused, rolledBack int
}

func newVMModel(t *testing.T, seed uint64) *vmModel {
	m := &vmModel{seed: seed, rng: rand.New(rand.NewPCG(seed, 19)), attach: map[string]string{}, bonds: map[string][]string{},
		nics: []string{"eth0", "eth1", "eth2", "eth3", "eth4"}}
	m.vmEnv = vmStartWith(t, len(m.nics), func(o *agent.Options) {
		o.Kernel = engine.FailStep(engine.NamespaceKernel{Namespace: o.Namespace}, func(i int, _ netconf.Step) bool { return int64(i+1) == m.failAt.Load() })
	})
	m.nets = []vmModelNet{
		{id: vmNetA, name: "br", mtu: 1500, vm: true},
		{id: vmNetB, name: "plain", mtu: 1500},
		{id: vmNetC, name: "v10", vlan: 10, mtu: 1500, vm: true},
		{id: vmNetD, name: "v20", vlan: 20, mtu: 2000},
	}
	for _, n := range m.nets {
		m.must(http.MethodPost, "/ovirt-engine/api/networks", strings.Replace(n.xml(), "<network>", `<network id="`+n.id+`">`, 1), http.StatusCreated)
	}
	return m
}

func (m *vmModel) fatalf(format string, args ...any) {
	m.t.Helper()
	m.t.Fatalf("seed %d (replay: HOSTNETD_MODEL_SEED=%d), after:\n  %s\n%s", m.seed, m.seed, strings.Join(m.history, "\n  "), fmt.Sprintf(format, args...))
}

func (m *vmModel) step() {
	m.t.Helper()
	switch r := m.rng.IntN(100); {
	case r < 35:
		m.attachNet()
	case r < 50:
		m.detachNet()
	case r < 68:
		m.bond()
	case r < 76:
		m.removeBond()
	default:
		m.editNet()
	}
}

func vmPick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func (m *vmModel) attachNet() {
	n := vmPick(m.rng, m.nets)
	devs := append(slices.Clone(m.nics), "bond0", "bond1")
	dev := vmPick(m.rng, devs)
	ip := ""
	if m.rng.IntN(2) == 0 {
		ip = vmStatic4(fmt.Sprintf("10.%d.0.10", slices.Index(m.nets, n)), "24", "")
	}
	body := vmAttachAction(n.id, dev, ip)
	m.write(fmt.Sprintf("attach %s to %s", n.name, dev), http.MethodPost, m.host("/setupnetworks"), body, func() { m.attach[n.id] = dev })
}

func (m *vmModel) detachNet() {
	if len(m.attach) == 0 {
		return
	}
	ids := slices.Sorted(mapKeys(m.attach))
	id := vmPick(m.rng, ids)
	body := `<action><removed_network_attachments><network_attachment><network id="` + id + `"/></network_attachment></removed_network_attachments></action>`
	m.write("detach "+id[:1], http.MethodPost, m.host("/setupnetworks"), body, func() { delete(m.attach, id) })
}

func (m *vmModel) bond() {
	name := vmPick(m.rng, []string{"bond0", "bond1"})
	nics := slices.Clone(m.nics)
	m.rng.Shuffle(len(nics), func(i, j int) { nics[i], nics[j] = nics[j], nics[i] })
	slaves := nics[:2+m.rng.IntN(2)]
	slices.Sort(slaves)
	opts := vmPick(m.rng, []string{"", "mode=1 miimon=100", "mode=4 miimon=100", "mode=2 miimon=200"})
	m.write(fmt.Sprintf("bond %s %v %q", name, slaves, opts), http.MethodPost, m.host("/setupnetworks"), vmBondAction(name, opts, slaves...),
		func() { m.bonds[name] = slaves })
}

func (m *vmModel) removeBond() {
	if len(m.bonds) == 0 {
		return
	}
	name := vmPick(m.rng, slices.Sorted(mapKeys(m.bonds)))
	var removed []string
	body := `<action><removed_bonds><host_nic><name>` + name + `</name></host_nic></removed_bonds><removed_network_attachments>`
	for id, dev := range m.attach {
		if dev == name {
			removed = append(removed, id)
			body += `<network_attachment><network id="` + id + `"/></network_attachment>`
		}
	}
	body += `</removed_network_attachments></action>`
	m.write("remove "+name, http.MethodPost, m.host("/setupnetworks"), body, func() {
		delete(m.bonds, name)
		for _, id := range removed {
			delete(m.attach, id)
		}
	})
}

func (m *vmModel) editNet() {
	i := m.rng.IntN(len(m.nets))
	n := m.nets[i]
	var what string
	switch m.rng.IntN(3) {
	case 0:
		if n.vlan == 0 {
			n.vlan = 100 + i
		} else {
			n.vlan = 0
		}
		what = fmt.Sprintf("vlan %d", n.vlan)
	case 1:
		n.vm = !n.vm
		what = fmt.Sprintf("vm %v", n.vm)
	default:
		n.mtu = vmPick(m.rng, []int{1500, 2000, 9000})
		what = fmt.Sprintf("mtu %d", n.mtu)
	}
	m.write("edit "+n.name+" "+what, http.MethodPut, "/ovirt-engine/api/networks/"+n.id, n.xml(), func() { m.nets[i] = n })
}

// write sends one write. Accepted, it must leave the kernel as the model
// (updated by accept) derives; refused, it must change nothing; failed at
// an injected step, it must roll the host back exactly.
func (m *vmModel) write(desc, method, path, body string, accept func()) {
	m.t.Helper()
	m.writeOnce(desc, method, path, body, accept, !strings.Contains(body, "<removed_"))
}

// writeOnce is write; a removal cannot be re-sent (what it names is gone),
// so only the others are checked for idempotence.
func (m *vmModel) writeOnce(desc, method, path, body string, accept func(), idempotent bool) {
	m.t.Helper()
	before := m.snapshot()
	var at int64 // the injected failure; past the end of the plan, none
	if m.rng.IntN(5) == 0 {
		at = int64(1 + m.rng.IntN(6))
	}
	m.failAt.Store(at)
	r := m.do(method, path, body)
	m.failAt.Store(0)
	switch {
	case r.Status == http.StatusOK:
		accept()
		m.applied++
		m.history = append(m.history, fmt.Sprintf("%s: %s writes", desc, r.Header.Get("X-Hostnetd-Kernel-Writes")))
		m.checkGraph()
		checkAllInSync(m.t, m.ag)
		if !idempotent {
			return
		}
		if again := m.do(method, path, body); again.Status != http.StatusOK || vmWrites(m.t, again) != 0 {
			m.fatalf("re-sending %q: status %d, %s kernel writes; want 200 and 0\n%s", desc, again.Status, again.Header.Get("X-Hostnetd-Kernel-Writes"), again.Body)
		}
	case strings.Contains(string(r.Body), "FAILED_IFUP"):
		m.rolledBack++
		m.history = append(m.history, fmt.Sprintf("%s: failed at step %d, rolled back", desc, at))
		if after := m.snapshot(); after != before {
			m.fatalf("%s: the rollback did not restore the host:\n--- before\n%s\n--- after\n%s\n%s", desc, before, after, r.Body)
		}
	case r.Status >= 400 && r.Status < 500:
		m.refused++
		m.history = append(m.history, fmt.Sprintf("%s: refused %d", desc, r.Status))
		if after := m.snapshot(); after != before {
			m.fatalf("%s: a refused request changed the host:\n--- before\n%s\n--- after\n%s\n%s", desc, before, after, r.Body)
		}
	default:
		m.fatalf("%s: status %d\n%s\nrequest:\n%s", desc, r.Status, r.Body, body)
	}
}

// checkGraph compares the kernel's graph with the one the model's
// configuration derives: for every device of the target its kind, MTU,
// master (or none), VLAN and bond slaves; every bridge's host interfaces;
// and no bond, VLAN or bridge the target lacks.
func (m *vmModel) checkGraph() {
	m.t.Helper()
	cfg := &netconf.Config{}
	var nets []*netconf.Network
	for _, n := range m.nets {
		nets = append(nets, n.network())
	}
	for _, name := range slices.Sorted(mapKeys(m.bonds)) {
		cfg.Bonds = append(cfg.Bonds, netconf.BondConfig{Name: name, Slaves: m.bonds[name]})
	}
	for _, id := range slices.Sorted(mapKeys(m.attach)) {
		cfg.Attachments = append(cfg.Attachments, netconf.Attachment{ID: id, NetworkID: id, Nic: m.attach[id]})
	}
	target := netconf.BuildTarget(cfg, nets)
	st, err := kernel.ReadState(m.ns)
	if err != nil {
		m.t.Fatal(err)
	}
	ports := netconf.HostPorts(st)
	var want, have []string
	for _, d := range target.Devices {
		want = append(want, graphLine(d.Name, string(d.Kind), d.MTU, d.Master, d.VLAN, targetPorts(target, d)))
		l, ok := st.Link(d.Name)
		if !ok {
			have = append(have, d.Name+" absent")
			continue
		}
		kind := string(l.Kind)
		if d.Kind == netconf.KindDevice {
			kind = string(netconf.KindDevice) // a NIC is a veth here
		}
		var p []string
		if l.Kind == netconf.KindBridge || l.Kind == netconf.KindBond {
			p = ports[d.Name]
		}
		have = append(have, graphLine(l.Name, kind, l.MTU, l.Master, l.VLAN, p))
	}
	for _, l := range st.Links {
		if (l.Kind == netconf.KindBond || l.Kind == netconf.KindVLAN || l.Kind == netconf.KindBridge) && target.Device(l.Name) == nil {
			have = append(have, l.Name+" "+string(l.Kind)+" left over")
		}
	}
	if w, h := strings.Join(want, "\n"), strings.Join(have, "\n"); w != h {
		m.fatalf("the kernel's graph is not the configuration's:\n--- configuration\n%s\n--- kernel\n%s", w, h)
	}
}

func targetPorts(t *netconf.Target, d *netconf.Device) []string {
	if d.Kind != netconf.KindBridge && d.Kind != netconf.KindBond {
		return nil
	}
	var out []string
	for _, p := range t.Devices {
		if p.Master == d.Name {
			out = append(out, p.Name)
		}
	}
	slices.Sort(out)
	return out
}

func graphLine(name, kind string, mtu int, master string, vlan *netconf.VLAN, ports []string) string {
	s := fmt.Sprintf("%s %s mtu %d master %q", name, kind, mtu, master)
	if vlan != nil {
		s += fmt.Sprintf(" vlan %d on %s", vlan.ID, vlan.Base)
	}
	if ports != nil {
		s += " ports " + strings.Join(ports, ",")
	}
	return s
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
