package dhcp4

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/vishvananda/netlink"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/hostnetd/hostnetd/agent/internal/dhcptest"
	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/nstest"
)

const shortLease = 6 * time.Second // T1 3 s, T2 5.25 s

// windowLease is the lease of the tests that need the client to act inside
// a window of it (renew between T1 and T2, rebind between T2 and the end):
// the rebinding window is an eighth of the lease, 5 s here, so that a busy
// machine that delays the client by a second or two does not close it.
const windowLease = 40 * time.Second // T1 20 s, T2 35 s

// (1) A lease from dnsmasq: the address is on the link with a finite
// lifetime; router and name server are reported; renew (unicast) and rebind
// (broadcast) against dnsmasq are ACKed.
func TestLeaseFromDnsmasq(t *testing.T) {
	t.Parallel()
	bed := newTestbed(t)
	dm := startDnsmasq(t, bed)
	ev := newEvents()
	c := start(t, bed, "eth0", ev, nil)

	l := ev.next(t, eventWait)
	if !l.Bound || !netip.MustParsePrefix("192.0.2.0/24").Contains(l.Address.Addr()) || l.Address.Bits() != 24 {
		t.Fatalf("lease %+v; want a bound 192.0.2.x/24", l)
	}
	if l.Router != serverIP || !slices.Equal(l.DNS, []netip.Addr{dnsIP}) || l.ServerID != serverIP {
		t.Errorf("router %s, DNS %v, server %s; want %s, [%s], %s", l.Router, l.DNS, l.ServerID, serverIP, dnsIP, serverIP)
	}
	if l.LeaseTime != 2*time.Minute || l.T1 != time.Minute || l.T2 != 105*time.Second {
		t.Errorf("lease %s, T1 %s, T2 %s; want 2m, 1m, 1m45s", l.LeaseTime, l.T1, l.T2)
	}
	if got, ok := c.Lease(); !ok || got.Address != l.Address {
		t.Errorf("Lease() = %+v, %v; want %s bound", got, ok, l.Address)
	}
	requireDynamic(t, bed.ns, "eth0", l.Address, 120)
	dm.waitLog(t, "DHCPACK(srv0) "+l.Address.Addr().String(), 30*time.Second)

	// The renew and rebind exchanges, called directly: dnsmasq's leases
	// are too long for the timers.
	for _, rebind := range []bool{false, true} {
		got, err := c.extend(context.Background(), l, rebind, time.Now().Add(10*time.Second))
		if err != nil {
			t.Fatalf("extend(rebind=%v): %v", rebind, err)
		}
		if got.Address != l.Address || !got.Acquired.After(l.Acquired) || got.LeaseTime != 2*time.Minute {
			t.Errorf("extend(rebind=%v) = %+v; want %s again, acquired later", rebind, got, l.Address)
		}
	}
	// dnsmasq may log after the client has its answer.
	eventually(t, 2*time.Second, "dnsmasq logs 3 ACKs (bind, renew, rebind)", func() bool {
		return strings.Count(dm.output(), "DHCPACK(srv0) "+l.Address.Addr().String()) == 3
	})
}

// (2) Renewal at T1 against a stub with 40 s leases: the address stays past
// the first lease's expiry, its lifetime refreshed.
func TestRenew(t *testing.T) {
	t.Parallel()
	bed := newTestbed(t)
	srv := startStub(t, bed, windowLease)
	ev := newEvents()
	c := start(t, bed, "eth0", ev, nil)
	leaseSeconds := int(windowLease / time.Second)

	first := ev.next(t, eventWait)
	if !first.Bound || first.T1 != windowLease/2 || first.T2 != windowLease*7/8 {
		t.Fatalf("first lease %+v; want bound, T1 %v, T2 %v", first, windowLease/2, windowLease*7/8)
	}
	requireDynamic(t, bed.ns, "eth0", first.Address, leaseSeconds)

	renewed := ev.next(t, windowLease+eventWait)
	at := renewed.Acquired.Sub(first.Acquired)
	if !renewed.Bound || renewed.Address != first.Address || at < first.T1 || at >= first.T2 {
		t.Fatalf("renewed lease %+v, %s after the first; want %s renewed between T1 and T2", renewed, at, first.Address)
	}
	// Unrefreshed, the lifetime left would be at most the lease less T1.
	if lft, unrefreshed := requireDynamic(t, bed.ns, "eth0", first.Address, leaseSeconds), int((windowLease-first.T1)/time.Second); lft <= unrefreshed {
		t.Errorf("valid_lft after the renewal is %d; want refreshed past %d", lft, unrefreshed)
	}
	var renewal *stubMsg
	for _, m := range srv.messages() {
		if m.typ == dhcpv4.MessageTypeRequest && m.ciaddr == first.Address.Addr() {
			renewal = &m
			break
		}
	}
	if renewal == nil || renewal.serverID || renewal.requested.IsValid() {
		t.Fatalf("renewal REQUEST %+v; want ciaddr %s, no server id, no requested address", renewal, first.Address.Addr())
	}
	if !bytes.Equal(renewal.clientID, append([]byte{1}, bed.mac...)) || renewal.chaddr != bed.mac.String() {
		t.Errorf("renewal client id %x, chaddr %s; want 01%x, %s", renewal.clientID, renewal.chaddr, []byte(bed.mac), bed.mac)
	}

	// Past the first lease's end, the address is still there. The look
	// must come before the renewed lease ends too: a machine so busy that
	// this test (and the client) did not run for the renewed lease's 6 s
	// rightly loses the address, and the look says nothing then.
	time.Sleep(time.Until(first.Expiry().Add(time.Second)))
	stillThere := func() bool {
		l, ok := c.Lease()
		_, onLink := kernelAddr(t, bed.ns, "eth0", first.Address)
		return onLink && ok && l.Address == first.Address
	}
	if looked := time.Now(); !stillThere() {
		if looked.After(renewed.Expiry()) {
			t.Logf("looked %v after the renewed lease's end (the machine stalled this test); the look proves nothing", looked.Sub(renewed.Expiry()))
			return
		}
		t.Errorf("%s is gone from eth0 or from Lease() %v after the first lease's end, before the renewed one's", first.Address, looked.Sub(first.Expiry()))
	}
}

// (2) Rebinding at T2 when the server ignores the unicast renewals.
func TestRebind(t *testing.T) {
	t.Parallel()
	bed := newTestbed(t)
	srv := startStub(t, bed, windowLease)
	ev := newEvents()
	start(t, bed, "eth0", ev, nil)

	first := ev.next(t, eventWait)
	srv.set(func(s *stub) { s.dropRenewalsUntil = first.Acquired.Add(first.T2) })
	rebound := ev.next(t, windowLease+eventWait)
	at := rebound.Acquired.Sub(first.Acquired)
	if !rebound.Bound || rebound.Address != first.Address || at < first.T2 || at >= first.LeaseTime {
		t.Fatalf("rebound lease %+v, %s after the first; want %s rebound between T2 and expiry", rebound, at, first.Address)
	}
	var dropped, answered int
	for _, m := range srv.messages() {
		if m.typ == dhcpv4.MessageTypeRequest && m.ciaddr == first.Address.Addr() {
			if m.answered {
				answered++
			} else {
				dropped++
			}
		}
	}
	if dropped == 0 || answered == 0 {
		t.Errorf("%d renewals ignored, %d answered; want both", dropped, answered)
	}
	// Past the first lease's end the address is still there (looked at
	// before the rebound lease's end: see TestRenew).
	time.Sleep(time.Until(first.Expiry().Add(500 * time.Millisecond)))
	if _, ok := kernelAddr(t, bed.ns, "eth0", first.Address); !ok && time.Now().Before(rebound.Expiry()) {
		t.Errorf("%s is gone from eth0 after the first lease's end, before the rebound one's", first.Address)
	}
}

// (2) A NAK to the renewal: the address goes, OnChange hears it, and the
// client discovers again.
func TestNakRediscovers(t *testing.T) {
	t.Parallel()
	bed := newTestbed(t)
	srv := startStub(t, bed, shortLease)
	ev := newEvents()
	c := start(t, bed, "eth0", ev, nil)

	first := ev.next(t, eventWait)
	srv.set(func(s *stub) { s.nak = 1 })
	lost := ev.next(t, eventWait)
	if lost.Bound || lost.Address != first.Address {
		t.Fatalf("after the NAK: %+v; want %s lost", lost, first.Address)
	}
	again := ev.next(t, eventWait)
	if !again.Bound || again.Address == first.Address {
		t.Fatalf("after the rediscovery: %+v; want a new bound address", again)
	}
	if _, ok := kernelAddr(t, bed.ns, "eth0", first.Address); ok {
		t.Errorf("%s is still on eth0 after the NAK", first.Address)
	}
	requireDynamic(t, bed.ns, "eth0", again.Address, 6)
	if l, ok := c.Lease(); !ok || l.Address != again.Address {
		t.Errorf("Lease() = %+v, %v; want %s", l, ok, again.Address)
	}
	var discovers int
	for _, m := range srv.messages() {
		if m.typ == dhcpv4.MessageTypeDiscover {
			discovers++
		}
	}
	if discovers != 2 {
		t.Errorf("%d DISCOVERs; want 2", discovers)
	}
}

// (2) Expiry with the server gone: the address is removed at the end of the
// lease and OnChange hears Bound false.
func TestExpiry(t *testing.T) {
	t.Parallel()
	bed := newTestbed(t)
	srv := startStub(t, bed, shortLease)
	ev := newEvents()
	c := start(t, bed, "eth0", ev, nil)

	first := ev.next(t, eventWait)
	srv.stop()
	lost := ev.next(t, eventWait)
	if lost.Bound || lost.Address != first.Address {
		t.Fatalf("OnChange %+v; want %s lost", lost, first.Address)
	}
	// Not before the expiry; and soon after it, with room for a loaded
	// machine, whose timers fire seconds late (a client that ignored the
	// expiry would keep the lease, and never say so).
	if late := time.Since(first.Expiry()); late < 0 || late > 30*time.Second {
		t.Errorf("lost %s after the expiry; want soon after it", late)
	}
	if _, ok := kernelAddr(t, bed.ns, "eth0", first.Address); ok {
		t.Errorf("%s is still on eth0 after expiry", first.Address)
	}
	if l, ok := c.Lease(); ok || l.Bound {
		t.Errorf("Lease() = %+v, %v after expiry; want unbound", l, ok)
	}
}

// (3) No server: Start returns at once, nothing is configured, the client
// keeps trying, and a server started later gives it a lease.
func TestNoServerThenServer(t *testing.T) {
	t.Parallel()
	bed := newTestbed(t)
	ev := newEvents()
	c := start(t, bed, "eth0", ev, nil) // fails the test if Start blocks

	ev.none(t, 2500*time.Millisecond)
	if l, ok := c.Lease(); ok || l.Address.IsValid() {
		t.Fatalf("Lease() = %+v, %v without a server", l, ok)
	}
	if got := globalV4(t, bed.ns, "eth0"); len(got) != 0 {
		t.Fatalf("eth0 has %v without a server", got)
	}
	startDnsmasq(t, bed)
	l := ev.next(t, eventWait)
	if !l.Bound {
		t.Fatalf("lease %+v; want bound", l)
	}
	requireDynamic(t, bed.ns, "eth0", l.Address, 120)
}

// (4) The lease file: a restarted client asks for its address again
// (INIT-REBOOT) and gets it, although a DISCOVER would get another; a NAK of
// that request falls back to DISCOVER.
func TestLeaseFile(t *testing.T) {
	t.Parallel()
	bed := newTestbed(t)
	srv := startStub(t, bed, time.Minute)
	file := filepath.Join(t.TempDir(), "state", "eth0.lease")
	withFile := func(cfg *Config) { cfg.LeaseFile = file }

	ev := newEvents()
	c := start(t, bed, "eth0", ev, withFile)
	first := ev.next(t, eventWait)
	if err := c.Close(false); err != nil {
		t.Fatalf("Close(false): %v", err)
	}
	var stored leaseFile
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("reading the lease file: %v", err)
	}
	if err := json.Unmarshal(data, &stored); err != nil || stored.Address != first.Address ||
		stored.HWAddr != bed.mac.String() || stored.ServerID != serverIP || stored.LeaseTime != 60 {
		t.Fatalf("lease file %s (%v); want %s from %s for %s", data, err, first.Address, serverIP, bed.mac)
	}
	requireDynamic(t, bed.ns, "eth0", first.Address, 60) // Close(false) leaves it

	ev = newEvents()
	c = start(t, bed, "eth0", ev, withFile)
	again := ev.next(t, eventWait)
	if again.Address != first.Address {
		t.Fatalf("after a restart: %s; want %s again", again.Address, first.Address)
	}
	msgs := srv.messages()
	last := msgs[len(msgs)-1]
	if len(msgs) != 3 || last.typ != dhcpv4.MessageTypeRequest || last.requested != first.Address.Addr() ||
		last.serverID || (last.ciaddr.IsValid() && !last.ciaddr.IsUnspecified()) {
		t.Fatalf("messages %+v; want DISCOVER, REQUEST, then an INIT-REBOOT REQUEST for %s", msgs, first.Address.Addr())
	}
	c.Close(false)

	// The server refuses the remembered address: DISCOVER, another one.
	srv.set(func(s *stub) { s.nak = 1 })
	ev = newEvents()
	start(t, bed, "eth0", ev, withFile)
	other := ev.next(t, eventWait)
	if !other.Bound || other.Address == first.Address {
		t.Fatalf("after a NAK of the remembered address: %+v; want another address", other)
	}
	if _, ok := kernelAddr(t, bed.ns, "eth0", first.Address); ok {
		t.Errorf("the refused %s is still on eth0", first.Address)
	}
	eventually(t, time.Second, "the lease file holds the new address", func() bool {
		data, _ := os.ReadFile(file)
		return json.Unmarshal(data, &stored) == nil && stored.Address == other.Address
	})
}

// (5) The bridgeless → bridged move: the same HWAddr on a bridge that took
// the NIC's MAC gets the same lease; a bridge re-created under the same name
// gets the address back.
func TestMoveToBridge(t *testing.T) {
	t.Parallel()
	bed := newTestbed(t)
	startDnsmasq(t, bed)
	ev := newEvents()
	c := start(t, bed, "eth0", ev, nil)
	first := ev.next(t, eventWait)
	if err := c.Close(false); err != nil {
		t.Fatalf("Close(false): %v", err)
	}
	// What the agent does: the address leaves the NIC, which becomes a
	// port of a bridge whose MAC is pinned to the NIC's.
	eth0 := nstest.Link(t, bed.ns, "eth0")
	if err := bed.ns.RemoveAddr("eth0", first.Address); err != nil {
		t.Fatalf("removing the address from eth0: %v", err)
	}
	mkBridge := func() {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = "br0"
		attrs.HardwareAddr = bed.mac
		if err := bed.ns.Handle.LinkAdd(&netlink.Bridge{LinkAttrs: attrs}); err != nil {
			t.Fatalf("adding br0: %v", err)
		}
		br := nstest.SetUp(t, bed.ns, "br0")
		if err := bed.ns.Handle.LinkSetMaster(eth0, br); err != nil {
			t.Fatalf("enslaving eth0: %v", err)
		}
	}
	mkBridge()

	ev = newEvents()
	c = start(t, bed, "br0", ev, func(cfg *Config) { cfg.linkCheck = 200 * time.Millisecond })
	bridged := ev.next(t, eventWait)
	if bridged.Address != first.Address {
		t.Fatalf("on the bridge: %s; want %s again", bridged.Address, first.Address)
	}
	requireDynamic(t, bed.ns, "br0", first.Address, 120)

	// The bridge is deleted and created again (new ifindex): the client
	// puts the address back and says so.
	oldIndex := nstest.Link(t, bed.ns, "br0").Attrs().Index
	if err := bed.ns.Handle.LinkDel(nstest.Link(t, bed.ns, "br0")); err != nil {
		t.Fatalf("deleting br0: %v", err)
	}
	mkBridge()
	if nstest.Link(t, bed.ns, "br0").Attrs().Index == oldIndex {
		t.Fatalf("br0 kept ifindex %d", oldIndex)
	}
	again := ev.next(t, 30*time.Second)
	if !again.Bound || again.Address != first.Address {
		t.Fatalf("after the re-creation: %+v; want %s", again, first.Address)
	}
	requireDynamic(t, bed.ns, "br0", first.Address, 120)
	// And the sockets open on the new device: a renewal works.
	if _, err := c.extend(context.Background(), again, false, time.Now().Add(10*time.Second)); err != nil {
		t.Fatalf("renewing on the re-created bridge: %v", err)
	}
}

// (6) Close(true) sends a DHCPRELEASE, removes the address and the lease
// file; a second Close is a no-op.
func TestReleaseOnClose(t *testing.T) {
	t.Parallel()
	bed := newTestbed(t)
	dm := startDnsmasq(t, bed)
	file := filepath.Join(t.TempDir(), "eth0.lease")
	ev := newEvents()
	c := start(t, bed, "eth0", ev, func(cfg *Config) { cfg.LeaseFile = file })
	l := ev.next(t, eventWait)
	if err := c.Close(true); err != nil {
		t.Fatalf("Close(true): %v", err)
	}
	dm.waitLog(t, "DHCPRELEASE(srv0) "+l.Address.Addr().String(), 30*time.Second)
	if _, ok := kernelAddr(t, bed.ns, "eth0", l.Address); ok {
		t.Errorf("%s is still on eth0 after Close(true)", l.Address)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lease file is still there: %v", err)
	}
	if got, ok := c.Lease(); ok || got.Bound {
		t.Errorf("Lease() = %+v, %v after Close(true)", got, ok)
	}
	// A second Close has nothing left to release (a hang would show as the
	// test's timeout).
	if err := c.Close(true); err != nil {
		t.Errorf("second Close: %v; want nil", err)
	}
}

// (6) Close(true) of a restarted client that has not re-acquired its
// remembered lease yet releases that lease and removes its address.
func TestReleaseRemembered(t *testing.T) {
	t.Parallel()
	bed := newTestbed(t)
	srv := startStub(t, bed, time.Minute)
	file := filepath.Join(t.TempDir(), "eth0.lease")
	withFile := func(cfg *Config) { cfg.LeaseFile = file }
	ev := newEvents()
	c := start(t, bed, "eth0", ev, withFile)
	l := ev.next(t, eventWait)
	c.Close(false)

	srv.set(func(s *stub) { s.ignoreRequests = true })
	c = start(t, bed, "eth0", nil, withFile)
	eventually(t, 3*time.Second, "the INIT-REBOOT REQUEST", func() bool {
		msgs := srv.messages()
		return len(msgs) == 3 && msgs[2].typ == dhcpv4.MessageTypeRequest
	})
	if err := c.Close(true); err != nil {
		t.Fatalf("Close(true): %v", err)
	}
	eventually(t, 2*time.Second, "the DHCPRELEASE", func() bool {
		msgs := srv.messages()
		m := msgs[len(msgs)-1]
		return m.typ == dhcpv4.MessageTypeRelease && m.ciaddr == l.Address.Addr() &&
			bytes.Equal(m.clientID, append([]byte{1}, bed.mac...))
	})
	if _, ok := kernelAddr(t, bed.ns, "eth0", l.Address); ok {
		t.Errorf("%s is still on eth0 after Close(true)", l.Address)
	}
}

// (7) No goroutine outlives Close: a bound client, a client in the middle
// of an exchange with no server, a client whose link does not exist.
// Not parallel, so that the count is this test's alone.
func TestNoGoroutineLeak(t *testing.T) {
	bed := newTestbed(t)
	log := zap.NewNop()
	runtime.GC()
	before := runtime.NumGoroutine()

	srv := startStub(t, bed, shortLease)
	ev := newEvents()
	c, err := Start(context.Background(), Config{Namespace: bed.ns, Link: "eth0", HWAddr: bed.mac, Log: log,
		OnChange: ev.onChange})
	if err != nil {
		t.Fatal(err)
	}
	ev.next(t, eventWait)
	closeFast(t, c, true)
	srv.stop()

	for _, link := range []string{"eth0", "nosuchdev"} {
		c, err := Start(context.Background(), Config{Namespace: bed.ns, Link: link, HWAddr: bed.mac, Log: log,
			Retry: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		closeFast(t, c, false)
	}

	// A cancelled context stops the client too; Close still returns.
	ctx, cancel := context.WithCancel(context.Background())
	c, err = Start(ctx, Config{Namespace: bed.ns, Link: "eth0", HWAddr: bed.mac, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	closeFast(t, c, false)

	deadline := time.Now().Add(eventWait) // a leak never exits; a loaded machine only delays the exits
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func closeFast(t *testing.T, c *Client, release bool) {
	t.Helper()
	begin := time.Now()
	if err := c.Close(release); err != nil {
		t.Errorf("Close(%v): %v", release, err)
	}
	// Only a Close that waited for the network (retransmissions seconds
	// apart) reaches this bound; a loaded machine does not.
	if d := time.Since(begin); d > 10*time.Second {
		t.Errorf("Close(%v) took %s", release, d)
	}
}

// Start rejects an incomplete configuration (no root needed).
func TestStartValidates(t *testing.T) {
	log := zap.NewNop()
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	ns := &kernel.Namespace{Handle: &netlink.Handle{}} // never used: validation fails first
	for name, cfg := range map[string]Config{
		"no namespace": {Link: "eth0", HWAddr: mac, Log: log},
		"no link":      {Namespace: ns, HWAddr: mac, Log: log},
		"no hwaddr":    {Namespace: ns, Link: "eth0", Log: log},
		"long hwaddr":  {Namespace: ns, Link: "eth0", HWAddr: make(net.HardwareAddr, 20), Log: log},
		"no log":       {Namespace: ns, Link: "eth0", HWAddr: mac},
	} {
		if _, err := Start(context.Background(), cfg); err == nil {
			t.Errorf("%s: Start succeeded", name)
		}
	}
}

// parseAck's defaults and fix-ups (no root needed).
func TestParseAck(t *testing.T) {
	mk := func(opts ...dhcpv4.Option) *dhcpv4.DHCPv4 {
		m, err := dhcpv4.New(dhcpv4.WithMessageType(dhcpv4.MessageTypeAck), dhcpv4.WithYourIP(net.IPv4(10, 1, 2, 3)))
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range opts {
			m.UpdateOption(o)
		}
		return m
	}
	now := time.Now()
	l, err := parseAck(mk(dhcpv4.OptIPAddressLeaseTime(time.Hour)), now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.Address != netip.MustParsePrefix("10.1.2.3/8") || l.T1 != 30*time.Minute || l.T2 != 52*time.Minute+30*time.Second ||
		l.Router.IsValid() || !l.Acquired.Equal(now) {
		t.Errorf("defaults: %+v", l)
	}
	// T1 after T2 and T2 after the lease: the RFC defaults instead.
	l, _ = parseAck(mk(dhcpv4.OptIPAddressLeaseTime(100*time.Second), dhcpv4.OptRenewTimeValue(90*time.Second),
		dhcpv4.OptRebindingTimeValue(200*time.Second), dhcpv4.OptSubnetMask(net.CIDRMask(26, 32))), now, nil)
	if l.T1 != 50*time.Second || l.T2 != 87500*time.Millisecond || l.Address.Bits() != 26 {
		t.Errorf("fix-ups: %+v", l)
	}
	// A terse renewal ACK keeps the mask, router and DNS it left out.
	prev := Lease{Address: netip.MustParsePrefix("10.1.2.3/24"), Router: netip.MustParseAddr("10.1.2.1"),
		DNS: []netip.Addr{netip.MustParseAddr("10.1.2.53")}, LeaseTime: time.Hour, ServerID: netip.MustParseAddr("10.1.2.1")}
	l, _ = parseAck(mk(), now, &prev)
	if l.Address != prev.Address || l.Router != prev.Router || !slices.Equal(l.DNS, prev.DNS) ||
		l.LeaseTime != time.Hour || l.ServerID != prev.ServerID {
		t.Errorf("terse renewal: %+v", l)
	}
	if _, err := parseAck(mk(), now, nil); err == nil {
		t.Error("an ACK without a lease time was accepted")
	}
	if l, _ := parseAck(mk(dhcpv4.OptIPAddressLeaseTime(infiniteLease)), now, nil); !l.Infinite() || !l.Expiry().IsZero() {
		t.Errorf("infinite lease: %+v", l)
	}
}

// Option 121 replaces option 3 (RFC 3442 §3): the default gateway is its
// default route, or none; the other routes are reported, destinations
// masked, a repeated destination once. A malformed option 121 is ignored
// whole and option 3 applies.
func TestParseAckClasslessStaticRoutes(t *testing.T) {
	mk := func(opts ...dhcpv4.Option) *dhcpv4.DHCPv4 {
		m, err := dhcpv4.New(dhcpv4.WithMessageType(dhcpv4.MessageTypeAck), dhcpv4.WithYourIP(net.IPv4(10, 1, 2, 3)),
			dhcpv4.WithOption(dhcpv4.OptIPAddressLeaseTime(time.Hour)), dhcpv4.WithOption(dhcpv4.OptSubnetMask(net.CIDRMask(24, 32))),
			dhcpv4.WithOption(dhcpv4.OptRouter(net.IPv4(10, 1, 2, 1))))
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range opts {
			m.UpdateOption(o)
		}
		return m
	}
	route := func(dst string, router net.IP) *dhcpv4.Route {
		_, n, err := net.ParseCIDR(dst)
		if err != nil {
			t.Fatal(err)
		}
		return &dhcpv4.Route{Dest: n, Router: router}
	}
	want := func(dst, router string) Route {
		r := Route{Dst: netip.MustParsePrefix(dst)}
		if router != "" {
			r.Router = netip.MustParseAddr(router)
		}
		return r
	}
	now := time.Now()

	l, _ := parseAck(mk(dhcpv4.OptClasslessStaticRoute(
		route("10.9.0.0/16", net.IPv4(10, 1, 2, 254)),
		route("0.0.0.0/0", net.IPv4(10, 1, 2, 2)),
		route("172.16.5.0/24", net.IPv4zero),
		route("10.9.0.0/16", net.IPv4(10, 1, 2, 9)),
	)), now, nil)
	if l.Router != netip.MustParseAddr("10.1.2.2") {
		t.Errorf("router %s; want 10.1.2.2, option 121's default route, not option 3's", l.Router)
	}
	if w := []Route{want("10.9.0.0/16", "10.1.2.254"), want("172.16.5.0/24", "")}; !slices.Equal(l.Routes, w) {
		t.Errorf("routes %v; want %v", l.Routes, w)
	}

	// Without a default route in option 121 there is no gateway at all.
	l, _ = parseAck(mk(dhcpv4.OptClasslessStaticRoute(route("10.9.0.0/16", net.IPv4(10, 1, 2, 254)))), now, nil)
	if l.Router.IsValid() || len(l.Routes) != 1 {
		t.Errorf("option 121 without a default route: router %s, routes %v; want none and one", l.Router, l.Routes)
	}

	// Host bits past the prefix length are masked off.
	raw := dhcpv4.Option{Code: dhcpv4.OptionClasslessStaticRoute, Value: dhcpv4.OptionGeneric{Data: []byte{12, 10, 0xff, 10, 1, 2, 254}}}
	if l, _ = parseAck(mk(raw), now, nil); !slices.Equal(l.Routes, []Route{want("10.240.0.0/12", "10.1.2.254")}) {
		t.Errorf("unmasked destination: routes %v; want 10.240.0.0/12", l.Routes)
	}

	// Malformed (a 33-bit prefix, a truncated route, empty): option 3
	// applies.
	for _, data := range [][]byte{{33, 10, 0, 0, 0, 0, 10, 1, 2, 254}, {16, 10, 9, 10, 1}, {}} {
		bad := dhcpv4.Option{Code: dhcpv4.OptionClasslessStaticRoute, Value: dhcpv4.OptionGeneric{Data: data}}
		if l, _ = parseAck(mk(bad), now, nil); l.Router != netip.MustParseAddr("10.1.2.1") || l.Routes != nil {
			t.Errorf("malformed option 121 %v: router %s, routes %v; want option 3's 10.1.2.1 and none", data, l.Router, l.Routes)
		}
	}

	// A terse renewal keeps the previous lease's routes; an ACK with
	// option 3 alone drops them.
	prev := Lease{Address: netip.MustParsePrefix("10.1.2.3/24"), Router: netip.MustParseAddr("10.1.2.2"),
		Routes: []Route{want("10.9.0.0/16", "10.1.2.254")}, LeaseTime: time.Hour}
	terse, err := dhcpv4.New(dhcpv4.WithMessageType(dhcpv4.MessageTypeAck), dhcpv4.WithYourIP(net.IPv4(10, 1, 2, 3)))
	if err != nil {
		t.Fatal(err)
	}
	if l, _ = parseAck(terse, now, &prev); l.Router != prev.Router || !slices.Equal(l.Routes, prev.Routes) {
		t.Errorf("terse renewal: router %s, routes %v; want %s, %v", l.Router, l.Routes, prev.Router, prev.Routes)
	}
	if l, _ = parseAck(mk(), now, &prev); l.Router != netip.MustParseAddr("10.1.2.1") || l.Routes != nil {
		t.Errorf("renewal with option 3 only: router %s, routes %v; want 10.1.2.1 and none", l.Router, l.Routes)
	}
}

// The lease file keeps everything the agent routes by: a lease restored
// from it after a restart installs the same routes.
func TestLeaseFileRoundTrip(t *testing.T) {
	l := Lease{Bound: true, Address: netip.MustParsePrefix("10.1.2.3/24"), Router: netip.MustParseAddr("10.1.2.2"),
		Routes: []Route{{Dst: netip.MustParsePrefix("10.9.0.0/16"), Router: netip.MustParseAddr("10.1.2.254")},
			{Dst: netip.MustParsePrefix("172.16.5.0/24")}},
		DNS: []netip.Addr{netip.MustParseAddr("10.1.2.53")}, LeaseTime: time.Hour, T1: 30 * time.Minute, T2: 50 * time.Minute,
		Acquired: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), ServerID: netip.MustParseAddr("10.1.2.1")}
	data, err := json.Marshal(protocol{}.EncodeFile(l, "52:54:00:00:00:01", "eth0"))
	if err != nil {
		t.Fatal(err)
	}
	got, hw, ok, err := protocol{}.DecodeFile(data)
	if err != nil || !ok || hw != "52:54:00:00:00:01" {
		t.Fatalf("DecodeFile(%s) = %v, %q, %v", data, err, hw, ok)
	}
	if got.Address != l.Address || got.Router != l.Router || !slices.Equal(got.Routes, l.Routes) || !slices.Equal(got.DNS, l.DNS) ||
		got.LeaseTime != l.LeaseTime || got.T1 != l.T1 || got.T2 != l.T2 || !got.Acquired.Equal(l.Acquired) || got.ServerID != l.ServerID {
		t.Errorf("round trip of %s:\n got %+v\nwant %+v", data, got, l)
	}
}

// (9) Address conflict detection: an offered address that a host on the
// link already holds is declined (a DHCPDECLINE naming it, with no client
// address) and never installed; the client starts over and binds another.
func TestDeclinesAnAddressInUse(t *testing.T) {
	t.Parallel()
	bed := newTestbed(t)
	srv := startStub(t, bed, time.Minute)
	taken := netip.MustParsePrefix("192.0.2.100/24") // the stub's first offer
	if _, err := bed.peer.ReplaceAddr("srv0", kernel.IfAddr{Prefix: taken}); err != nil {
		t.Fatal(err)
	}
	ev := newEvents()
	conflicts := make(chan string, 10)
	start(t, bed, "eth0", ev, func(c *Config) {
		c.declineWait = 200 * time.Millisecond
		c.OnConflict = func(addr netip.Addr, holder net.HardwareAddr, server netip.Addr) {
			conflicts <- addr.String() + " " + holder.String() + " " + server.String()
		}
	})
	l := ev.next(t, eventWait)
	srv0 := nstest.Link(t, bed.peer, "srv0")
	if want := taken.Addr().String() + " " + srv0.Attrs().HardwareAddr.String() + " " + serverIP.String(); len(conflicts) != 1 || <-conflicts != want {
		t.Errorf("OnConflict was not called once with %q", want)
	}
	if !l.Bound || l.Address == taken {
		t.Fatalf("lease %+v; want one other than %s, which a host on the link holds", l, taken)
	}
	var declined bool
	for _, m := range srv.messages() {
		if m.typ == dhcpv4.MessageTypeDecline {
			declined = m.requested == taken.Addr() && (!m.ciaddr.IsValid() || m.ciaddr.IsUnspecified())
		}
	}
	if !declined {
		t.Errorf("messages %+v; want a DHCPDECLINE of %s without ciaddr", srv.messages(), taken.Addr())
	}
	if _, ok := kernelAddr(t, bed.ns, "eth0", taken); ok {
		t.Errorf("the address in use, %s, was installed on eth0", taken)
	}
}

// claims: what counts as another host holding or contesting the address.
func TestARPClaims(t *testing.T) {
	own := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	other := net.HardwareAddr{2, 0, 0, 0, 0, 2}
	addr := netip.MustParseAddr("192.0.2.100")
	frame := func(op uint16, sha net.HardwareAddr, spa, tpa string) []byte {
		b := arpProbe(sha, netip.MustParseAddr(tpa))
		binary.BigEndian.PutUint16(b[ethHeader+6:], op)
		s := netip.MustParseAddr(spa).As4()
		copy(b[ethHeader+14:], s[:])
		return b
	}
	for _, tc := range []struct {
		name  string
		frame []byte
		want  net.HardwareAddr
	}{
		{"a reply from the holder", frame(arpReply, other, "192.0.2.100", "0.0.0.0"), other},
		{"a request from the holder", frame(arpReq, other, "192.0.2.100", "192.0.2.1"), other},
		{"another host probing for it", frame(arpReq, other, "0.0.0.0", "192.0.2.100"), other},
		{"our own probe", arpProbe(own, addr), nil},
		{"a reply about another address", frame(arpReply, other, "192.0.2.101", "192.0.2.1"), nil},
		{"another host probing another address", frame(arpReq, other, "0.0.0.0", "192.0.2.101"), nil},
		{"an unknown opcode", frame(3, other, "192.0.2.100", "0.0.0.0"), nil},
		{"truncated", frame(arpReply, other, "192.0.2.100", "0.0.0.0")[:40], nil},
	} {
		if got := claims(tc.frame, own, addr); !bytes.Equal(got, tc.want) {
			t.Errorf("%s: claims = %v; want %v", tc.name, got, tc.want)
		}
	}
}

// (10) dnsmasq hears the DHCPDECLINE: its only address is held by another
// host on the link, so the client declines it and stays without a lease.
func TestDnsmasqHearsTheDecline(t *testing.T) {
	t.Parallel()
	bed := newTestbed(t)
	taken := netip.MustParsePrefix("192.0.2.10/24")
	if _, err := bed.peer.ReplaceAddr("srv0", kernel.IfAddr{Prefix: taken}); err != nil {
		t.Fatal(err)
	}
	dm := dnsmasq{dhcptest.StartDnsmasq(t, bed.peer, "DHCP, IP range", "--dhcp-range=192.0.2.10,192.0.2.10,2m", "--dhcp-authoritative")}
	ev := newEvents()
	c := start(t, bed, "eth0", ev, func(c *Config) { c.declineWait = 200 * time.Millisecond })
	dm.waitLog(t, "DHCPDECLINE(srv0) 192.0.2.10", 10*time.Second)
	ev.none(t, time.Second)
	if l, ok := c.Lease(); ok {
		t.Errorf("bound %s, which another host holds", l.Address)
	}
	if _, ok := kernelAddr(t, bed.ns, "eth0", taken); ok {
		t.Errorf("%s was installed on eth0", taken)
	}
}

// TestStartDoesNotWaitForTheNetwork: on a link where no server answers,
// Start returns; the exchange goes on in the background.
func TestStartDoesNotWaitForTheNetwork(t *testing.T) {
	t.Parallel()
	bed := newTestbed(t)
	cfg := Config{Namespace: bed.ns, Link: "eth0", HWAddr: bed.mac, Log: zaptest.NewLogger(t), Retry: 500 * time.Millisecond, MaxRetry: 2 * time.Second}
	dhcptest.NoServerStart(t, func() (*Client, error) { return Start(context.Background(), cfg) })
}
