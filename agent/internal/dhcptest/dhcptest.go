// Package dhcptest holds the test helpers the DHCPv4 and DHCPv6 clients'
// tests share: a testbed of two fresh namespaces joined by a veth pair,
// dnsmasq serving the peer end, OnChange recording, and checks of the
// address as the kernel holds it. Only tests import it.
package dhcptest

import (
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/logbuf"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// Testbed creates the client's namespace with "eth0" and, joined to it by
// a veth pair, the server's namespace with "srv0", which gets server. It
// returns both namespaces and eth0's MAC.
func Testbed(t testing.TB, server netip.Prefix) (ns, peer *kernel.Namespace, mac net.HardwareAddr) {
	t.Helper()
	ns = nstest.New(t)
	peer = nstest.New(t)
	eth0 := nstest.Veth(t, ns, "eth0", peer, "srv0")
	// Until the kernel's link watcher has run for a veth end, which it
	// does some time after carrier comes on, the end drops what it sends:
	// the server's first answer was lost whenever the testbed was quick
	// (a link read of srv0 here used to hide it). The watcher sets the
	// operational state as it activates the end.
	for _, end := range []struct {
		ns   *kernel.Namespace
		name string
	}{{ns, "eth0"}, {peer, "srv0"}} {
		Eventually(t, StartWait, end.name+" operationally up", func() bool {
			return nstest.Link(t, end.ns, end.name).Attrs().OperState == netlink.OperUp
		})
	}
	addr := kernel.IfAddr{Prefix: server}
	if server.Addr().Is6() {
		addr.Flags = unix.IFA_F_NODAD // the server answers at once
	}
	if _, err := peer.ReplaceAddr("srv0", addr); err != nil {
		t.Fatalf("adding the server address: %v", err)
	}
	return ns, peer, eth0.Attrs().HardwareAddr
}

// Events collects OnChange calls of leases of type L.
type Events[L any] struct {
	ch   chan L
	name string
}

// NewEvents collects the OnChange calls of the client of package name.
func NewEvents[L any](name string) *Events[L] {
	return &Events[L]{ch: make(chan L, 100), name: name}
}

// OnChange is the client's OnChange.
func (e *Events[L]) OnChange(l L) {
	select {
	case e.ch <- l:
	default:
		panic(e.name + " test: too many OnChange calls")
	}
}

// Next waits for the next OnChange.
func (e *Events[L]) Next(t testing.TB, within time.Duration) L {
	t.Helper()
	select {
	case l := <-e.ch:
		return l
	case <-time.After(within):
		t.Fatalf("no OnChange within %s", within)
		var zero L
		return zero
	}
}

// None checks that OnChange is not called for d.
func (e *Events[L]) None(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case l := <-e.ch:
		t.Fatalf("unexpected OnChange: %+v", l)
	case <-time.After(d):
	}
}

// Started runs start, which starts a client, and has the client closed
// (without release) at cleanup. (That Start does not wait for the network
// is NoServerStart's to check, where waiting could never end.)
func Started[C interface{ Close(release bool) error }](t testing.TB, start func() (C, error)) C {
	t.Helper()
	c, err := start()
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { c.Close(false) })
	return c
}

// HangBound bounds a wait for something that must not depend on the
// network: only a hang reaches it, never a slow machine.
const HangBound = 2 * time.Minute

// EventWait bounds a wait for a client's event (a lease bound, renewed,
// lost): the protocol's timing is checked on the times the event carries,
// so the wait itself only has to outlast a loaded machine.
const EventWait = 2 * time.Minute

// StartWait bounds a wait for the testbed to come up: a link's watcher,
// dnsmasq's first lines. They take milliseconds on an idle machine; a
// machine that runs the race-enabled suites beside them (CI) once made
// dnsmasq print nothing for 5 s, and the test failed on the machine's
// speed, not on anything it checks.
const StartWait = time.Minute

// NoServerStart checks that start returns on a link where no server
// answers: a Start that waited for the network would never return.
func NoServerStart[C interface{ Close(release bool) error }](t testing.TB, start func() (C, error)) {
	t.Helper()
	type result struct {
		c   C
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := start()
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("Start: %v", r.err)
		}
		if err := r.c.Close(false); err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(HangBound):
		t.Fatalf("Start has not returned after %s with no server: it waits for the network", HangBound)
	}
}

// KernelAddr returns p as installed on link of ns, if it is there.
func KernelAddr(t testing.TB, ns *kernel.Namespace, link string, p netip.Prefix) (kernel.IfAddr, bool) {
	t.Helper()
	_, addrs, err := ns.LinkAddrs(link, kernel.FamilyOf(p.Addr()))
	if err != nil {
		t.Fatalf("listing addresses of %s: %v", link, err)
	}
	for _, a := range addrs {
		if a.Prefix == p {
			return a, true
		}
	}
	return kernel.IfAddr{}, false
}

// RequireDynamic checks that p is on link with finite lifetimes of at most
// maxLft seconds, and returns its valid lifetime.
func RequireDynamic(t testing.TB, ns *kernel.Namespace, link string, p netip.Prefix, maxLft int) int {
	t.Helper()
	a, ok := KernelAddr(t, ns, link, p)
	if !ok {
		t.Fatalf("%s is not on %s", p, link)
	}
	valid, preferred := int(a.ValidLft), int(a.PreferredLft)
	if valid <= 0 || valid > maxLft || preferred <= 0 || preferred > maxLft {
		t.Fatalf("%s on %s: valid_lft %d, preferred_lft %d; want finite, at most %d", p, link, valid,
			preferred, maxLft)
	}
	if a.Flags&unix.IFA_F_PERMANENT != 0 {
		t.Fatalf("%s on %s is permanent; want dynamic", p, link)
	}
	return valid
}

// Eventually polls cond every 50 ms for up to d.
func Eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Dnsmasq is a dnsmasq serving srv0 in the peer namespace; it writes its
// log into the embedded buffer.
type Dnsmasq struct{ logbuf.Buffer }

// Output is dnsmasq's log so far.
func (d *Dnsmasq) Output() string { return d.String() }

// WaitLog waits for s in dnsmasq's log.
func (d *Dnsmasq) WaitLog(t testing.TB, s string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(d.Output(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("dnsmasq did not log %q within %s; its log:\n%s", s, within, d.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// StartDnsmasq runs dnsmasq (kernel-testing.md §4) on srv0 of the peer
// namespace with the protocol's args, and waits for ready in its log. It is
// killed at cleanup.
func StartDnsmasq(t testing.TB, peer *kernel.Namespace, ready string, args ...string) *Dnsmasq {
	t.Helper()
	path, err := exec.LookPath("dnsmasq")
	if err != nil {
		t.Fatalf("dnsmasq is needed (package dnsmasq-base): %v", err)
	}
	d := &Dnsmasq{}
	cmd := exec.Command("ip", append([]string{"netns", "exec", peer.Name, path,
		"--conf-file=/dev/null", // ignore the system configuration
		"--leasefile-ro",        // no lease file (leases are kept in memory)
		"--pid-file=",           // no pid file
		"--user=root",           // keep privileges
		"-d",                    // foreground, log to stderr
		"-p", "0",               // no DNS service
		"--bind-dynamic", "-i", "srv0", // serve only the test link
		"--no-ping", // offer without the ICMP probe
	}, args...)...)
	cmd.Stdout = d
	cmd.Stderr = d
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting dnsmasq: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	d.WaitLog(t, ready, StartWait)
	return d
}

// Serve runs the loop of srv, a stub DHCP server, and returns stop, which
// closes srv and waits for its loop; stop runs at cleanup too.
func Serve(t testing.TB, srv interface {
	Serve() error
	Close() error
}) (stop func()) {
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.Serve()
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			srv.Close()
			<-served
		})
	}
	t.Cleanup(stop)
	return stop
}
