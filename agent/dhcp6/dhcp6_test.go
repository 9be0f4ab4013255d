package dhcp6

import (
	"context"
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

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/vishvananda/netlink"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/hostnetd/hostnetd/agent/internal/dhcptest"
	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// A lease from dnsmasq: a /128 of the subnet, on the link with finite
// lifetimes; the name server is reported; RENEW and REBIND against dnsmasq
// are answered.
func TestLeaseFromDnsmasq(t *testing.T) {
	t.Parallel()
	bed := newTestbed(t)
	dm := startDnsmasq(t, bed)
	ev := newEvents()
	c := start(t, bed, "eth0", ev, nil)

	l := ev.next(t, eventWait)
	if !l.Bound || !subnet.Contains(l.Address.Addr()) || l.Address.Bits() != 128 {
		t.Fatalf("lease %+v; want a bound /128 of %s", l, subnet)
	}
	if !slices.Equal(l.DNS, []netip.Addr{dnsIP}) || len(l.ServerID) == 0 {
		t.Errorf("DNS %v, server id %x; want [%s], a DUID", l.DNS, l.ServerID, dnsIP)
	}
	if l.Valid != 2*time.Minute || l.Preferred <= 0 || l.Preferred > l.Valid || l.T1 <= 0 || l.T1 > l.T2 || l.T2 > l.Valid {
		t.Errorf("valid %s, preferred %s, T1 %s, T2 %s; want valid 2m and 0 < T1 ≤ T2 ≤ valid", l.Valid, l.Preferred, l.T1, l.T2)
	}
	if got, ok := c.Lease(); !ok || got.Address != l.Address {
		t.Errorf("Lease() = %+v, %v; want %s bound", got, ok, l.Address)
	}
	requireDynamic(t, bed.ns, "eth0", l.Address, 120)
	dm.waitLog(t, "DHCPREPLY(srv0) "+l.Address.Addr().String(), 30*time.Second)

	// The renew and rebind exchanges, called directly: dnsmasq's leases
	// are too long for the timers.
	for _, rebind := range []bool{false, true} {
		got, err := c.extend(context.Background(), l, rebind, time.Now().Add(10*time.Second))
		if err != nil {
			t.Fatalf("extend(rebind=%v): %v", rebind, err)
		}
		if got.Address != l.Address || !got.Acquired.After(l.Acquired) || got.Valid != 2*time.Minute ||
			!slices.Equal(got.ServerID, l.ServerID) {
			t.Errorf("extend(rebind=%v) = %+v; want %s again, acquired later", rebind, got, l.Address)
		}
	}
	dm.waitLog(t, "DHCPRENEW(srv0)", 30*time.Second)
	dm.waitLog(t, "DHCPREBIND(srv0)", 30*time.Second)
}

// Close(true) sends a RELEASE, removes the address and the lease file; a
// second Close is a no-op.
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
	dm.waitLog(t, "DHCPRELEASE(srv0)", 30*time.Second)
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

// A lease file: Close(false) leaves the address and the file; a new client
// asks for the same address again (REBIND) and gets it.
func TestRestartKeepsAddress(t *testing.T) {
	t.Parallel()
	bed := newTestbed(t)
	dm := startDnsmasq(t, bed)
	file := filepath.Join(t.TempDir(), "dhcp6", "eth0.json")
	withFile := func(cfg *Config) { cfg.LeaseFile = file }
	ev := newEvents()
	c := start(t, bed, "eth0", ev, withFile)
	first := ev.next(t, eventWait)
	if err := c.Close(false); err != nil {
		t.Fatalf("Close(false): %v", err)
	}
	requireDynamic(t, bed.ns, "eth0", first.Address, 120)
	// Under load the first client may retransmit its SOLICIT (same
	// exchange, RFC 8415 §15): count what the first client sent, once
	// dnsmasq logged its REPLY, which it logs after every SOLICIT of that
	// exchange (the client sends them before its REQUEST).
	dm.waitLog(t, "DHCPREPLY(srv0)", 15*time.Second)
	solicits := strings.Count(dm.output(), "DHCPSOLICIT(srv0)")

	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("reading the lease file: %v", err)
	}
	var f leaseFile
	if err := json.Unmarshal(data, &f); err != nil || f.Address != first.Address || f.HWAddr != bed.mac.String() ||
		f.Valid != 120 || f.ServerID == "" {
		t.Fatalf("lease file %s (%v); want %s for %s", data, err, first.Address, bed.mac)
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".*tmp*")); len(matches) != 0 {
		t.Errorf("temporary files left: %v", matches)
	}

	ev = newEvents()
	c = start(t, bed, "eth0", ev, withFile)
	again := ev.next(t, eventWait)
	if !again.Bound || again.Address != first.Address || !again.Acquired.After(first.Acquired) {
		t.Fatalf("after the restart: %+v; want %s again", again, first.Address)
	}
	dm.waitLog(t, "DHCPREBIND(srv0)", 15*time.Second)
	if n := strings.Count(dm.output(), "DHCPSOLICIT(srv0)") - solicits; n != 0 {
		t.Errorf("the restarted client sent %d SOLICITs; want none (it rebinds)", n)
	}
	requireDynamic(t, bed.ns, "eth0", first.Address, 120)
	if _, ok := c.Lease(); !ok {
		t.Error("Lease() is not bound")
	}
}

// No server: Start returns at once, and a server started later hands out
// a lease.
func TestServerLater(t *testing.T) {
	t.Parallel()
	bed := newTestbed(t)
	ev := newEvents()
	c := start(t, bed, "eth0", ev, nil)
	time.Sleep(2 * time.Second)
	if _, ok := c.Lease(); ok {
		t.Fatal("a lease without a server")
	}
	startDnsmasq(t, bed)
	l := ev.next(t, eventWait)
	if !l.Bound || !subnet.Contains(l.Address.Addr()) {
		t.Fatalf("lease %+v; want one of %s", l, subnet)
	}
	requireDynamic(t, bed.ns, "eth0", l.Address, 120)
}

// With two servers the client collects ADVERTISEs for a second and takes
// the one of highest preference, not the first to answer; among equals,
// the first (RFC 8415 §18.2.1, §18.2.9). An ADVERTISE of preference 255 is
// taken at once: the REQUEST goes out before the rival, 800 ms later and
// inside the second, has advertised.
func TestServerPreference(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name            string
		stubPref, rival uint8
		rivalDelay      time.Duration
		want            netip.Addr
	}{
		{"the later server is preferred", 0, 10, 0, rivalAddr},
		{"equal preference: the first", 7, 7, 0, stubAddr},
		{"preference 255 is taken at once", 255, 255, 800 * time.Millisecond, stubAddr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bed := newTestbed(t)
			srv := startStub(t, bed, time.Minute, 2*time.Minute, 3*time.Minute)
			srv.set(func(s *stub) { s.pref, s.rival = tc.stubPref, &rival{pref: tc.rival, delay: tc.rivalDelay} })
			ev := newEvents()
			start(t, bed, "eth0", ev, nil)
			l := ev.next(t, eventWait)
			if !l.Bound || l.Address.Addr() != tc.want {
				t.Fatalf("lease %+v; want %s", l, tc.want)
			}
			requireDynamic(t, bed.ns, "eth0", l.Address, 180)
			var rivalSent time.Time
			for ; rivalSent.IsZero(); time.Sleep(20 * time.Millisecond) {
				srv.set(func(s *stub) { rivalSent = s.rivalSent })
			}
			for _, m := range srv.messages() {
				if m.typ != dhcpv6.MessageTypeRequest {
					continue
				}
				if m.toRival != (tc.want == rivalAddr) {
					t.Errorf("a REQUEST named the wrong server (rival %v)", m.toRival)
				}
				if tc.stubPref == 255 && !m.at.Before(rivalSent) {
					t.Errorf("the REQUEST came %v after the rival's ADVERTISE; preference 255 is taken at once", m.at.Sub(rivalSent))
				}
			}
		})
	}
}

// No goroutine outlives Close: a bound client (released), a client in the
// middle of an exchange with no server, a client whose link does not
// exist, a client whose context was cancelled. Not parallel, so that the
// count is this test's alone.
func TestNoGoroutineLeak(t *testing.T) {
	bed := newTestbed(t)
	dm := startDnsmasq(t, bed)
	log := zap.NewNop()
	runtime.GC()
	before := runtime.NumGoroutine()

	ev := newEvents()
	c, err := Start(context.Background(), Config{Namespace: bed.ns, Link: "eth0", HWAddr: bed.mac, Log: log,
		OnChange: ev.onChange})
	if err != nil {
		t.Fatal(err)
	}
	ev.next(t, eventWait)
	closeFast(t, c, true)
	dm.waitLog(t, "DHCPRELEASE(srv0)", 30*time.Second)

	// Another identity, closed at whatever stage it has reached (waiting
	// for the link-local address, mid-exchange or bound); and a link that
	// does not exist.
	other := net.HardwareAddr{2, 0, 0, 0, 0, 9}
	for _, link := range []string{"eth0", "nosuchdev"} {
		c, err := Start(context.Background(), Config{Namespace: bed.ns, Link: link, HWAddr: other, Log: log,
			Retry: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		closeFast(t, c, false)
	}

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
		"short hwaddr": {Namespace: ns, Link: "eth0", HWAddr: mac[:3], Log: log},
		"no log":       {Namespace: ns, Link: "eth0", HWAddr: mac},
	} {
		if _, err := Start(context.Background(), cfg); err == nil {
			t.Errorf("%s: Start succeeded", name)
		}
	}
}

// parseReply and the timer defaults (no root needed).
func TestParseReply(t *testing.T) {
	c := &Client{cfg: Config{HWAddr: net.HardwareAddr{2, 0, 0, 0, 0, 1}}}
	addr := netip.MustParseAddr("2001:db8::5")
	sid := &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{2, 0, 0, 0, 0, 2}}
	mk := func(t1, t2, pref, valid time.Duration, extra ...dhcpv6.Option) *dhcpv6.Message {
		m, err := dhcpv6.NewMessage()
		if err != nil {
			t.Fatal(err)
		}
		m.MessageType = dhcpv6.MessageTypeReply
		m.AddOption(dhcpv6.OptClientID(c.duid()))
		m.AddOption(dhcpv6.OptServerID(sid))
		ia := &dhcpv6.OptIANA{IaId: c.iaid(), T1: t1, T2: t2}
		ia.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: addr.AsSlice(), PreferredLifetime: pref, ValidLifetime: valid})
		for _, o := range extra {
			ia.Options.Add(o)
		}
		m.AddOption(ia)
		return m
	}
	now := time.Now()
	l, err := c.parseReply(mk(0, 0, time.Hour, 2*time.Hour), now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.Address != netip.PrefixFrom(addr, 128) || l.T1 != 30*time.Minute || l.T2 != 48*time.Minute ||
		l.Preferred != time.Hour || l.Valid != 2*time.Hour || !l.Acquired.Equal(now) ||
		!slices.Equal(l.ServerID, sid.ToBytes()) {
		t.Errorf("defaults: %+v", l)
	}
	// The server's T1/T2, unless inconsistent.
	if l, _ := c.parseReply(mk(10*time.Minute, 20*time.Minute, time.Hour, 2*time.Hour), now, nil); l.T1 != 10*time.Minute || l.T2 != 20*time.Minute {
		t.Errorf("server timers: %+v", l)
	}
	if l, _ := c.parseReply(mk(40*time.Minute, 20*time.Minute, time.Hour, 2*time.Hour), now, nil); l.T1 != 30*time.Minute || l.T2 != 48*time.Minute {
		t.Errorf("inconsistent timers: %+v", l)
	}
	// A renewal keeps the name servers a terse REPLY left out.
	prev := Lease{Address: netip.PrefixFrom(addr, 128), DNS: []netip.Addr{netip.MustParseAddr("2001:db8::53")}}
	if l, _ := c.parseReply(mk(0, 0, time.Hour, 2*time.Hour), now, &prev); !slices.Equal(l.DNS, prev.DNS) {
		t.Errorf("terse renewal: %+v", l)
	}
	// Refusals.
	for name, m := range map[string]*dhcpv6.Message{
		"NoBinding": mk(0, 0, time.Hour, 2*time.Hour, &dhcpv6.OptStatusCode{StatusCode: iana.StatusNoBinding}),
		"valid 0":   mk(0, 0, 0, 0),
	} {
		if _, err := c.parseReply(m, now, &prev); !errors.As(err, new(*refusedError)) {
			t.Errorf("%s: %v; want a refusal", name, err)
		}
	}
	if l, _ := c.parseReply(mk(0, 0, infinite, infinite), now, nil); !l.Infinite() || !l.Expiry().IsZero() {
		t.Errorf("infinite lease: %+v", l)
	}
}

// The timers, against a stub with 40 s leases, T1 10 s, T2 20 s (windows
// wide enough that a busy machine delaying the client by a second or two
// does not close them): a RENEW at T1; with RENEWs ignored, a REBIND at T2;
// with the server gone, the address is removed at expiry and OnChange
// hears Bound false.
func TestTimers(t *testing.T) {
	t.Parallel()
	const t1, t2, valid = 10 * time.Second, 20 * time.Second, 40 * time.Second
	bed := newTestbed(t)
	srv := startStub(t, bed, t1, t2, valid)
	ev := newEvents()
	c := start(t, bed, "eth0", ev, func(cfg *Config) { cfg.minExtendRetry = 500 * time.Millisecond })
	validSeconds := int(valid / time.Second)

	first := ev.next(t, eventWait)
	if !first.Bound || first.Address != netip.PrefixFrom(stubAddr, 128) || first.T1 != t1 ||
		first.T2 != t2 || first.Valid != valid {
		t.Fatalf("first lease %+v; want %s, T1 %v, T2 %v, valid %v", first, stubAddr, t1, t2, valid)
	}
	requireDynamic(t, bed.ns, "eth0", first.Address, validSeconds)

	renewed := ev.next(t, valid+eventWait)
	if at := renewed.Acquired.Sub(first.Acquired); !renewed.Bound || at < first.T1 || at >= first.T2 {
		t.Fatalf("renewed %+v, %s after the first; want a renewal between T1 and T2", renewed, at)
	}
	if last := srv.messages()[len(srv.messages())-1]; last.typ != dhcpv6.MessageTypeRenew {
		t.Errorf("the renewal was a %s; want RENEW", last.typ)
	}

	srv.set(func(s *stub) { s.dropRenews = true })
	rebound := ev.next(t, valid+eventWait)
	if at := rebound.Acquired.Sub(renewed.Acquired); !rebound.Bound || at < renewed.T2 || at >= renewed.Valid {
		t.Fatalf("rebound %+v, %s after the renewal; want a rebind between T2 and expiry", rebound, at)
	}
	if last := srv.messages()[len(srv.messages())-1]; last.typ != dhcpv6.MessageTypeRebind {
		t.Errorf("the rebind was a %s; want REBIND", last.typ)
	}
	// Unrefreshed, the lifetime left would be at most valid less T2.
	if lft, unrefreshed := requireDynamic(t, bed.ns, "eth0", first.Address, validSeconds), int((valid-t2)/time.Second); lft <= unrefreshed {
		t.Errorf("valid_lft after the rebind is %d; want refreshed past %d", lft, unrefreshed)
	}

	srv.stop()
	lost := ev.next(t, valid+eventWait)
	if lost.Bound || time.Now().Before(rebound.Expiry()) {
		t.Fatalf("lost %+v at %s; want Bound false at expiry %s", lost, time.Now(), rebound.Expiry())
	}
	if _, ok := kernelAddr(t, bed.ns, "eth0", first.Address); ok {
		t.Errorf("%s is still on eth0 after expiry", first.Address)
	}
	if _, ok := c.Lease(); ok {
		t.Error("Lease() still bound after expiry")
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
