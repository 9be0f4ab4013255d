package engine

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/lldp"
	"github.com/hostnetd/hostnetd/test/lldptest"
)

// fakeLLDP is a manager without sockets: links are added by hand, frames
// fed to update, time moved by hand.
type fakeLLDP struct {
	*lldpListeners
	reg    *prometheus.Registry
	mu     sync.Mutex
	clock  time.Time
	events []string
}

func newFakeLLDP(t *testing.T) *fakeLLDP {
	f := &fakeLLDP{clock: time.Unix(1000, 0), reg: prometheus.NewRegistry()}
	f.lldpListeners = newLLDPListeners(zap.NewNop(), nil, func(_, code, desc string) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.events = append(f.events, code+": "+desc)
	}, f.reg)
	f.now = func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.clock }
	return f
}

func (f *fakeLLDP) addLink(name string) *lldpLink {
	link := &lldpLink{name: name, neighbors: map[string]*lldpNeighbor{}, done: make(chan struct{})}
	f.links[name] = link
	return link
}

func (f *fakeLLDP) advance(d time.Duration) {
	f.mu.Lock()
	f.clock = f.clock.Add(d)
	f.mu.Unlock()
}

func (f *fakeLLDP) takeEvents() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ev := f.events
	f.events = nil
	return ev
}

func frame(t *testing.T, chassis byte, ttl uint16, sysname string) *lldp.Neighbor {
	t.Helper()
	src := net.HardwareAddr{2, 0, 0, 0, 0, chassis}
	n, err := lldp.Decode(lldptest.Frame(src, lldptest.ChassisMAC(src), lldptest.PortName("swp1"), lldptest.TTL(ttl), lldptest.String(5, sysname), lldptest.End()))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLLDPNeighboursLifecycle(t *testing.T) {
	f := newFakeLLDP(t)
	eth0 := f.addLink("eth0")

	f.update(eth0, frame(t, 1, 10, "sw1"))
	f.update(eth0, frame(t, 1, 10, "sw1")) // a refresh: no event
	if ev := f.takeEvents(); len(ev) != 1 || !strings.HasPrefix(ev[0], `LLDP_NEIGHBOR_DISCOVERED: LLDP neighbour "sw1" (chassis 02:00:00:00:00:01, port swp1) discovered on eth0`) {
		t.Errorf("events %q", ev)
	}
	f.advance(9 * time.Second)
	f.update(eth0, frame(t, 1, 10, "sw1b"))
	if ev := f.takeEvents(); len(ev) != 1 || !strings.Contains(ev[0], "changed: system name") {
		t.Errorf("events %q", ev)
	}
	// The refresh restarted the TTL.
	f.advance(9 * time.Second)
	f.expire()
	if n := f.neighbors("eth0"); len(n) != 1 || n[0].SystemName != "sw1b" {
		t.Fatalf("neighbours %v", n)
	}
	if d := f.nextWake(); d != time.Second {
		t.Errorf("next wake in %v; want 1s", d)
	}
	f.advance(time.Second)
	if n := f.neighbors("eth0"); len(n) != 0 {
		t.Errorf("an expired neighbour is served: %v", n)
	}
	f.expire()
	if ev := f.takeEvents(); len(ev) != 1 || !strings.Contains(ev[0], "its information expired (TTL 10 s)") {
		t.Errorf("events %q", ev)
	}

	// At most lldpMaxNeighbors; TTL 0 of an unknown one is no event.
	for i := range lldpMaxNeighbors + 2 {
		f.update(eth0, frame(t, byte(10+i), 120, "sw"))
	}
	if n := len(f.neighbors("eth0")); n != lldpMaxNeighbors {
		t.Errorf("%d neighbours kept", n)
	}
	if got := f.counter(t, lldpTooMany); got != 2 {
		t.Errorf("too_many_neighbors %v", got)
	}
	f.takeEvents()
	f.update(eth0, frame(t, 99, 0, "sw"))
	f.update(eth0, frame(t, 10, 0, "sw"))
	if ev := f.takeEvents(); len(ev) != 1 || !strings.Contains(ev[0], "chassis 02:00:00:00:00:0a") || !strings.Contains(ev[0], "shut down") {
		t.Errorf("events %q", ev)
	}
	if f.count() != lldpMaxNeighbors-1 {
		t.Errorf("count %d", f.count())
	}

	// A link that is not listened on has none; a stopped link's frames
	// are ignored.
	if n := f.neighbors("eth9"); n != nil {
		t.Errorf("eth9: %v", n)
	}
	delete(f.links, "eth0")
	f.update(eth0, frame(t, 50, 120, "late"))
	if ev := f.takeEvents(); len(ev) != 0 {
		t.Errorf("a stopped link made events %q", ev)
	}
}

// counter reads hostnetd_lldp_frames_total{result} from the registry.
func (f *fakeLLDP) counter(t *testing.T, result string) float64 {
	t.Helper()
	families, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() != "hostnetd_lldp_frames_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no hostnetd_lldp_frames_total{result=%q}", result)
	return 0
}

func TestLLDPLinkWanted(t *testing.T) {
	for _, c := range []struct {
		link netconf.Link
		want bool
	}{
		{netconf.Link{Name: "eth0", Kind: netconf.KindDevice}, true},
		{netconf.Link{Name: "eth1", Kind: netconf.KindVeth, Master: "bond0"}, true},
		{netconf.Link{Name: "lo", Kind: netconf.KindDevice}, false},
		{netconf.Link{Name: "bond0", Kind: netconf.KindBond}, false},
		{netconf.Link{Name: "ovirtmgmt", Kind: netconf.KindBridge}, false},
		{netconf.Link{Name: "eth0.100", Kind: netconf.KindVLAN}, false},
		{netconf.Link{Name: "d0", Kind: netconf.KindDummy}, false},
	} {
		if got := lldpLinkWanted(&c.link); got != c.want {
			t.Errorf("%s (%s): %v", c.link.Name, c.link.Kind, got)
		}
	}
}
