package kernel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/hostnetd/hostnetd/netconf"
)

// Monitor tuning.
const (
	// linkDumpShare: when more than one link in linkDumpShare has
	// addresses to read again, one dump of every address is made instead
	// of one per link.
	linkDumpShare = 8
	// monitorBuffer is the notification socket's receive buffer: a
	// setupnetworks of 1000 networks sends some 10 MB of notifications,
	// and an overflow costs a full re-dump.
	monitorBuffer = 32 << 20
	// monitorSettle is how long notifications must pause before the
	// tables that are re-dumped rather than patched (routes, rules) are
	// read again; Sync does it at once.
	monitorSettle = 20 * time.Millisecond
	// monitorPausePoll is how often a paused monitor looks whether it was
	// resumed or stopped.
	monitorPausePoll = 50 * time.Millisecond
)

// Monitor keeps a view of a namespace's links, addresses, routes and rules
// current from rtnetlink notifications, so that readers get the kernel's
// state without a dump.
//
// Links and addresses are patched from their notifications. Routes and
// rules are re-dumped after their notifications settle: the kernel removes
// routes without notifying when a link goes down or an address goes, so
// route notifications are not a complete log. A lost notification (the
// socket's buffer overflowed) re-dumps everything.
//
// Notifications are queued in the socket by the kernel when a change is
// made, before the call that made it returns; Sync applies everything
// queued, so after a write and a Sync the view shows the write.
type Monitor struct {
	ns      *Namespace
	changed func()
	sock    *nl.NetlinkSocket
	stop    int // eventfd that wakes the loop to stop
	done    chan struct{}
	buf     []byte

	// mu guards the socket reads and everything below: a reader of the
	// socket applies what it read before it lets go.
	mu     sync.Mutex
	closed bool
	links  map[int]netlink.Link
	speeds map[int]uint64
	addrs  map[int]*linkAddrs
	routes []netlink.Route
	rules  []netlink.Rule
	// paused stops the loop from reading notifications (Pause).
	paused bool
	// quiet says the socket left its groups (Quiet): the kernel sends
	// nothing until Resync or Resume joins them again.
	quiet bool
	// stale marks the tables to dump again before the view is current.
	routesStale, rulesStale, allStale bool
	// staleAddrsOf are the links whose addresses alone are to be dumped
	// again (a link's state changed, a primary address went): after a
	// large change the kernel announces carrier a hundred devices a
	// second, and dumping every address for each hundred made the work
	// of following it quadratic.
	staleAddrsOf map[int]struct{}
	// addrSock dumps one link's addresses (the kernel filters by link
	// only with strict checking, which the library's socket lacks); nil
	// where the kernel has no strict checking: every address is dumped.
	addrSock *rtnl
	// view is the converted state, built on demand and dropped by every
	// change.
	view *netconf.State
	err  error // the last failure to re-dump; the view is then stale
	// The next view is patched from the last one built (last) when only
	// some links changed: their indexes are in repatch, their positions in
	// last's links in pos. A link added, removed or renamed, or a bond or
	// its slaves changed (a bond lists its slaves), has it rebuilt whole;
	// so do full dumps. After one change, a rebuild converted every link
	// of the host again, for the first reader after each notification:
	// natively at 2000 bridges, a look after one MTU change took 2.1 ms
	// and 4100 allocations rebuilt, 0.6 ms and 70 patched.
	last    *netconf.State
	pos     map[int]int
	names   map[int]string // index → name of last's links
	repatch map[int]struct{}
	rebuild bool
	// routesChanged says the routes were dumped again since last.
	routesChanged bool
	// dumps counts the dumps made, of any table: on an unchanged host
	// reads make none. addrsRead counts the addresses they read, and
	// converted the links converted into views.
	dumps, addrsRead, converted uint64
}

// monitorGroups are the notifications the monitor follows.
var monitorGroups = []uint{unix.RTNLGRP_LINK, unix.RTNLGRP_IPV4_IFADDR, unix.RTNLGRP_IPV6_IFADDR,
	unix.RTNLGRP_IPV4_ROUTE, unix.RTNLGRP_IPV6_ROUTE, unix.RTNLGRP_IPV4_RULE, unix.RTNLGRP_IPV6_RULE}

// StartMonitor subscribes to the namespace's link, address, route and rule
// notifications, reads the full state, and follows the notifications until
// ctx ends. changed is called, without locks held, after the view changed,
// by the monitor's goroutine or by the Sync that applied the change; it
// must not block. Done is closed when it has stopped.
func StartMonitor(ctx context.Context, ns *Namespace, changed func()) (*Monitor, error) {
	var (
		sock *nl.NetlinkSocket
		err  error
	)
	if h := ns.NsHandle(); h != nil {
		sock, err = nl.SubscribeAt(*h, netns.None(), unix.NETLINK_ROUTE, monitorGroups...)
	} else {
		sock, err = nl.Subscribe(unix.NETLINK_ROUTE, monitorGroups...)
	}
	if err != nil {
		return nil, fmt.Errorf("subscribing to the kernel's notifications: %w", err)
	}
	if err := sock.SetReceiveBufferSize(monitorBuffer, true); err != nil {
		// Without CAP_NET_ADMIN the default buffer still works; overflows
		// are recovered by a re-dump.
		_ = sock.SetReceiveBufferSize(monitorBuffer, false)
	}
	stop, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		sock.Close()
		return nil, fmt.Errorf("monitor: %w", err)
	}
	m := &Monitor{ns: ns, changed: changed, sock: sock, stop: stop, done: make(chan struct{}),
		buf: make([]byte, 1<<20), staleAddrsOf: map[int]struct{}{}, addrSock: openStrictRtnl(ns),
		repatch: map[int]struct{}{}}
	m.mu.Lock()
	err = m.dumpAllLocked()
	m.mu.Unlock()
	if err != nil {
		sock.Close()
		m.addrSock.close()
		unix.Close(stop)
		return nil, err
	}
	go func() {
		select {
		case <-ctx.Done():
		case <-m.done:
			return
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if !m.closed { // the loop closes the eventfd, under mu
			var one [8]byte
			one[0] = 1
			_, _ = unix.Write(stop, one[:])
		}
	}()
	go m.loop()
	return m, nil
}

// Dumps is the number of table dumps the monitor has made.
func (m *Monitor) Dumps() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dumps
}

// LinksConverted is the number of links the monitor has converted into
// views: a view after one link's change converts that link only.
func (m *Monitor) LinksConverted() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.converted
}

// AddrsRead is the number of addresses the monitor's dumps have read: the
// measure of its work that grows with the host.
func (m *Monitor) AddrsRead() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.addrsRead
}

// Done is closed when the monitor has stopped.
func (m *Monitor) Done() <-chan struct{} { return m.done }

// State returns the current view. It is shared: callers must not modify it.
// After the monitor stopped, or while a table cannot be read, it fails.
func (m *Monitor) State() (*netconf.State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errors.New("the kernel monitor has stopped")
	}
	if m.err != nil {
		return nil, m.err
	}
	if m.view == nil {
		m.view = m.viewLocked(time.Now())
	}
	return m.view, nil
}

// viewLocked builds the view: last with the links of repatch converted
// again, or a conversion of every table.
func (m *Monitor) viewLocked(now time.Time) *netconf.State {
	if !m.rebuild && m.last != nil {
		if st, ok := m.patchLocked(now); ok {
			return st
		}
	}
	st := m.tablesLocked().convert(m.cachedSpeed, now)
	m.converted += uint64(len(st.Links))
	m.last, m.rebuild, m.routesChanged = st, false, false
	clear(m.repatch)
	m.pos = make(map[int]int, len(st.Links))
	for i := range st.Links {
		m.pos[st.Links[i].Index] = i
	}
	m.names = make(map[int]string, len(m.links))
	for index, l := range m.links {
		m.names[index] = l.Attrs().Name
	}
	return st
}

// patchLocked makes the view from last, converting again the links of
// repatch and the routes if they changed; it fails if a link of repatch
// is not in last.
func (m *Monitor) patchLocked(now time.Time) (*netconf.State, bool) {
	links := slices.Clone(m.last.Links)
	for index := range m.repatch {
		i, ok := m.pos[index]
		l, known := m.links[index]
		if !ok || !known {
			return nil, false
		}
		links[i] = convertLink(l, m.names, m.convertedAddrsLocked(index, now), m.cachedSpeed)
		markEUI64(&links[i])
	}
	m.converted += uint64(len(m.repatch))
	clear(m.repatch)
	st := m.last.WithLinks(links)
	if m.routesChanged {
		st.Routes, m.routesChanged = convertRoutes(m.routes, m.names), false
	}
	st.Rules = convertRules(m.rules)
	m.last = st
	return st, true
}

// convertedAddrsLocked converts a link's addresses as convert does: IPv4
// then IPv6, each in the kernel's order; nil when it has none.
func (m *Monitor) convertedAddrsLocked(index int, now time.Time) []netconf.Addr {
	la := m.addrs[index]
	if la == nil || len(la.v4)+len(la.v6) == 0 {
		return nil
	}
	out := make([]netconf.Addr, 0, len(la.v4)+len(la.v6))
	for _, list := range [][]seenAddr{la.v4, la.v6} {
		for _, a := range list {
			out = append(out, convertAddr(a.Addr, elapsed(a.seen, now)))
		}
	}
	return out
}

// repatchLocked marks a link to convert again into the next view.
func (m *Monitor) repatchLocked(index int) {
	m.repatch[index] = struct{}{}
}

// bondRelated says whether a link is a bond or a bond's slave, whose
// change changes the bond's list of slaves.
func bondRelated(l netlink.Link) bool {
	_, slave := l.Attrs().Slave.(*netlink.BondSlave)
	return slave || l.Type() == "bond"
}

// Sync applies every notification queued so far and re-dumps what they
// made stale, so that the view reflects every change the kernel has
// finished. Like the monitor's own loop, it calls changed when the view
// changed: whoever reads a notification first reports it.
func (m *Monitor) Sync() (bool, error) {
	changed, err := m.sync()
	if changed && m.changed != nil {
		m.changed()
	}
	return changed, err
}

func (m *Monitor) sync() (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false, errors.New("the kernel monitor has stopped")
	}
	before := m.view
	changed := m.drainLocked()
	if err := m.refreshLocked(); err != nil {
		return true, err
	}
	return changed || m.view != before, nil
}

// Pause stops the monitor from reading notifications on its own until
// Resume. A transaction of a thousand networks sends some 10 MB of them:
// parsing each while the transaction runs, and re-dumping routes and
// addresses at every pause of the burst, competes with the transaction
// for the CPU and repeats work one dump at the end does once (Resync,
// Resume). Sync still applies whatever is queued, for readers.
func (m *Monitor) Pause() {
	m.mu.Lock()
	m.paused = true
	m.mu.Unlock()
}

// Quiet has a paused monitor leave its notification groups until the next
// Resync or Resume, which join them again and dump every table. While a
// transaction writes thousands of devices, the kernel would otherwise
// build a notification of each change (the whole link, for every link
// change) and queue it, up to the socket's 32 MB, only for Resync to drop
// them one by one; with no listener it builds none. Readers meanwhile see
// the view as it was before the writes.
func (m *Monitor) Quiet() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || m.quiet {
		return
	}
	for _, g := range monitorGroups {
		if err := unix.SetsockoptInt(m.sock.GetFd(), unix.SOL_NETLINK, unix.NETLINK_DROP_MEMBERSHIP, int(g)); err != nil {
			m.allStale = true // the next Resync or Resume dumps anyway
		}
	}
	m.quiet = true
}

// rejoinLocked joins the groups Quiet left, so that what follows is
// notified; every table is dumped again, since changes were not.
func (m *Monitor) rejoinLocked() error {
	if !m.quiet {
		return nil
	}
	for _, g := range monitorGroups {
		if err := unix.SetsockoptInt(m.sock.GetFd(), unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, int(g)); err != nil {
			return fmt.Errorf("monitor: joining notification group %d again: %w", g, err)
		}
	}
	m.quiet, m.allStale, m.view = false, true, nil
	return nil
}

// Resync drops the notifications queued so far unread and dumps every
// table again: after a burst of changes, one dump costs less than the
// notifications. It returns the state dumped, which unlike the view
// carries the IPv6 settings and bridge options of a link dump, for a
// caller that needs them (verification).
func (m *Monitor) Resync() (*netconf.State, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, errors.New("the kernel monitor has stopped")
	}
	err := m.rejoinLocked()
	m.discardLocked()
	var t tables
	if err == nil {
		t, err = m.dumpTablesLocked()
	}
	var st *netconf.State
	if err == nil {
		st = t.convert(m.cachedSpeed, time.Time{})
	}
	m.mu.Unlock()
	if err == nil && m.changed != nil {
		m.changed()
	}
	return st, err
}

// Resume undoes Pause. With stale set (the kernel was written since the
// last Resync) the queued notifications are dropped and the tables dumped
// again; otherwise the queue is applied, as Sync does.
func (m *Monitor) Resume(stale bool) error {
	m.mu.Lock()
	m.paused = false
	var err error
	if !m.closed {
		err = m.rejoinLocked()
	}
	if stale && !m.closed {
		m.discardLocked()
		m.allStale = true
	}
	m.mu.Unlock()
	if err != nil {
		return err
	}
	_, err = m.Sync()
	return err
}

// discardLocked drops the queued notifications unread.
func (m *Monitor) discardLocked() {
	var b [1]byte
	for {
		_, _, err := unix.Recvfrom(m.sock.GetFd(), b[:], unix.MSG_DONTWAIT|unix.MSG_TRUNC)
		if err != nil && !errors.Is(err, unix.EINTR) && !errors.Is(err, unix.ENOBUFS) {
			return // EAGAIN: empty
		}
	}
}

func (m *Monitor) loop() {
	defer close(m.done)
	defer func() {
		m.mu.Lock()
		m.closed = true
		m.sock.Close()
		m.addrSock.close()
		unix.Close(m.stop)
		m.mu.Unlock()
	}()
	fds := []unix.PollFd{{Fd: int32(m.sock.GetFd()), Events: unix.POLLIN}, {Fd: int32(m.stop), Events: unix.POLLIN}}
	for {
		m.mu.Lock()
		timeout := -1
		if m.staleLocked() {
			timeout = int(monitorSettle / time.Millisecond)
		}
		paused := m.paused
		m.mu.Unlock()
		if paused {
			// A transaction's notifications wait in the socket meanwhile.
			_, err := unix.Poll(fds[1:], int(monitorPausePoll/time.Millisecond))
			if err != nil && !errors.Is(err, unix.EINTR) || fds[1].Revents != 0 {
				return
			}
			continue
		}
		n, err := unix.Poll(fds, timeout)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || fds[1].Revents != 0 {
			return
		}
		m.mu.Lock()
		var changed bool
		if n == 0 { // quiet for the settle time
			changed = m.staleLocked()
			_ = m.refreshLocked() // a failure is kept in m.err for State
		} else {
			changed = m.drainLocked()
		}
		m.mu.Unlock()
		if changed && m.changed != nil {
			m.changed()
		}
	}
}

func (m *Monitor) staleLocked() bool {
	return len(m.staleAddrsOf) > 0 || m.routesStale || m.rulesStale || m.allStale
}

// drainLocked reads and applies every queued notification; it reports
// whether any changed the view.
func (m *Monitor) drainLocked() bool {
	changed := false
	fd := m.sock.GetFd()
	for {
		n, _, err := unix.Recvfrom(fd, m.buf, unix.MSG_DONTWAIT)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.ENOBUFS) {
			// Notifications were lost: only a full dump is trustworthy.
			m.allStale, changed = true, true
			continue
		}
		if err != nil || n < unix.NLMSG_HDRLEN {
			return changed // EAGAIN: the queue is empty
		}
		// The decoded links and addresses keep slices of the message
		// (MACs, addresses), so each datagram gets its own copy.
		msgs, err := syscall.ParseNetlinkMessage(bytes.Clone(m.buf[:n]))
		if err != nil {
			m.allStale, changed = true, true
			continue
		}
		for i := range msgs {
			if m.applyLocked(&msgs[i]) {
				changed = true
			}
		}
	}
}

// applyLocked patches the tables with one notification.
func (m *Monitor) applyLocked(msg *syscall.NetlinkMessage) bool {
	switch msg.Header.Type {
	case unix.RTM_NEWLINK, unix.RTM_DELLINK:
		return m.applyLinkLocked(msg)
	case unix.RTM_NEWADDR, unix.RTM_DELADDR:
		a, ok := parseAddrMsg(msg.Data)
		if !ok {
			return false
		}
		m.view = nil
		m.repatchLocked(a.LinkIndex)
		la := m.addrs[a.LinkIndex]
		if la == nil {
			la = &linkAddrs{}
			m.addrs[a.LinkIndex] = la
		}
		if msg.Header.Type == unix.RTM_DELADDR {
			la.remove(a)
			// The kernel drops the routes that used the address without
			// telling, and the secondaries of a primary it promotes or
			// drops change flags.
			m.routesStale = true
			if a.IP.To4() != nil && a.Flags&unix.IFA_F_SECONDARY == 0 {
				m.staleAddrsOf[a.LinkIndex] = struct{}{}
			}
			return true
		}
		la.put(seenAddr{Addr: a, seen: time.Now()})
		return true
	case unix.RTM_NEWROUTE, unix.RTM_DELROUTE:
		m.routesStale = true
		return true
	case unix.RTM_NEWRULE, unix.RTM_DELRULE:
		m.rulesStale = true
		return true
	}
	return false
}

func (m *Monitor) applyLinkLocked(msg *syscall.NetlinkMessage) bool {
	if len(msg.Data) < unix.SizeofIfInfomsg {
		return false
	}
	// A bridge sends AF_BRIDGE messages about its ports, with other
	// attributes; a port leaving its bridge is an AF_BRIDGE RTM_DELLINK
	// of a link that still exists.
	if ifi := nl.DeserializeIfInfomsg(msg.Data); ifi.Family != unix.AF_UNSPEC {
		return false
	}
	hdr := unix.NlMsghdr{Len: msg.Header.Len, Type: msg.Header.Type, Flags: msg.Header.Flags,
		Seq: msg.Header.Seq, Pid: msg.Header.Pid}
	l, err := netlink.LinkDeserialize(&hdr, msg.Data)
	if err != nil {
		m.allStale = true
		return true
	}
	l = detachLink(withBondExtras(l, msg.Data))
	index := l.Attrs().Index
	m.view = nil
	old, known := m.links[index]
	if msg.Header.Type == unix.RTM_DELLINK || !known || old.Attrs().Name != l.Attrs().Name || bondRelated(l) || bondRelated(old) {
		m.rebuild = true
	} else {
		m.repatchLocked(index)
	}
	// A link's addresses are its own: whatever happens to it, only its
	// own are dumped again.
	switch {
	case msg.Header.Type == unix.RTM_DELLINK:
		// Routes go silently with a link; its addresses go with it.
		m.routesStale = true
		delete(m.links, index)
		delete(m.speeds, index)
		delete(m.addrs, index)
		delete(m.staleAddrsOf, index)
		return true
	case !known || adminUpChanged(old, l):
		// Routes go silently when a link goes down; IPv6 addresses come
		// with a link going up, but the kernel announces them only once
		// duplicate address detection is over.
		m.routesStale = true
		m.staleAddrsOf[index] = struct{}{}
	case carrierChanged(old, l):
		// Carrier moves no route (the kernel only flags them linkdown,
		// which the view does not hold), but IPv6 restarts duplicate
		// address detection. After a large change the kernel announces
		// carrier device by device for seconds: re-dumping the routes
		// for each burst was most of the daemon's work meanwhile.
		m.staleAddrsOf[index] = struct{}{}
	}
	// Other changes (a master, an MTU, the multicast list, promiscuity)
	// move neither table.
	m.links[index] = l
	if hasSpeed(l) && (!known || old.Attrs().OperState != l.Attrs().OperState || old.Attrs().Name != l.Attrs().Name) {
		m.speeds[index] = m.ns.speed(l)
	}
	return true
}

// adminUpChanged reports whether a link was set up or down.
func adminUpChanged(old, cur netlink.Link) bool {
	return old.Attrs().RawFlags&unix.IFF_UP != cur.Attrs().RawFlags&unix.IFF_UP
}

// carrierChanged reports whether a link's carrier or operational state
// changed.
func carrierChanged(old, cur netlink.Link) bool {
	const carrier = unix.IFF_LOWER_UP | unix.IFF_RUNNING
	o, c := old.Attrs(), cur.Attrs()
	return o.RawFlags&carrier != c.RawFlags&carrier || o.OperState != c.OperState
}

// refreshLocked re-dumps the stale tables.
func (m *Monitor) refreshLocked() error {
	if m.allStale {
		return m.dumpAllLocked()
	}
	h := m.ns.Handle
	if len(m.staleAddrsOf) > 0 && (m.addrSock == nil || len(m.staleAddrsOf)*linkDumpShare > len(m.links)) {
		// One dump of every address costs less than one per link once a
		// good share of the links changed.
		m.dumps++
		addrs, err := dumpAddrs(h)
		if err != nil {
			m.err = err
			return err
		}
		m.addrsRead += uint64(len(addrs))
		m.setAddrsLocked(addrs, time.Now())
		m.view, m.rebuild = nil, true
		clear(m.staleAddrsOf)
	}
	for index := range m.staleAddrsOf {
		m.dumps++
		addrs, err := m.addrSock.linkAddrs(index)
		if err != nil {
			m.err = err
			return err
		}
		m.addrsRead += uint64(len(addrs))
		now := time.Now()
		la := &linkAddrs{}
		for _, a := range addrs {
			la.put(seenAddr{Addr: a, seen: now})
		}
		m.addrs[index] = la
		delete(m.staleAddrsOf, index)
		m.view = nil
		m.repatchLocked(index)
	}
	if m.routesStale {
		m.dumps++
		routes, err := dumpRoutes(h)
		if err != nil {
			m.err = err
			return err
		}
		m.routes, m.routesStale, m.view, m.routesChanged = routes, false, nil, true
	}
	if m.rulesStale {
		m.dumps++
		rules, err := dumpRules(h)
		if err != nil {
			m.err = err
			return err
		}
		m.rules, m.rulesStale, m.view = rules, false, nil
	}
	m.err = nil
	return nil
}

func (m *Monitor) dumpAllLocked() error {
	_, err := m.dumpTablesLocked()
	return err
}

// dumpTablesLocked dumps every table and makes the view of them.
func (m *Monitor) dumpTablesLocked() (tables, error) {
	m.dumps += 4
	t, err := dumpTables(m.ns)
	if err != nil {
		m.err = err
		return t, err
	}
	m.links = make(map[int]netlink.Link, len(t.links))
	m.speeds = make(map[int]uint64, len(t.links))
	for _, l := range t.links {
		m.links[l.Attrs().Index] = l
		if hasSpeed(l) {
			m.speeds[l.Attrs().Index] = m.ns.speed(l)
		}
	}
	m.addrs = make(map[int]*linkAddrs)
	for _, a := range t.addrs {
		m.linkAddrsLocked(a.LinkIndex).put(a)
	}
	m.addrsRead += uint64(len(t.addrs))
	m.routes, m.rules = t.routes, t.rules
	m.routesStale, m.rulesStale, m.allStale = false, false, false
	clear(m.staleAddrsOf)
	m.rebuild = true
	m.view, m.err = nil, nil
	return t, nil
}

func (m *Monitor) tablesLocked() tables {
	t := tables{routes: m.routes, rules: m.rules, links: make([]netlink.Link, 0, len(m.links))}
	for _, l := range m.links {
		t.links = append(t.links, l)
	}
	for _, la := range m.addrs {
		t.addrs = append(t.addrs, la.v4...)
		t.addrs = append(t.addrs, la.v6...)
	}
	return t
}

func (m *Monitor) setAddrsLocked(addrs []netlink.Addr, now time.Time) {
	m.addrs = make(map[int]*linkAddrs)
	for _, a := range addrs {
		m.linkAddrsLocked(a.LinkIndex).put(seenAddr{Addr: a, seen: now})
	}
}

func (m *Monitor) linkAddrsLocked(index int) *linkAddrs {
	la := m.addrs[index]
	if la == nil {
		la = &linkAddrs{}
		m.addrs[index] = la
	}
	return la
}

func (m *Monitor) cachedSpeed(l netlink.Link) uint64 { return m.speeds[l.Attrs().Index] }

// linkAddrs are a link's addresses in the kernel's order, which says which
// IPv4 address is primary: put places a new address where the kernel puts it.
type linkAddrs struct{ v4, v6 []seenAddr }

func (la *linkAddrs) list(a netlink.Addr) *[]seenAddr {
	if a.IP.To4() != nil {
		return &la.v4
	}
	return &la.v6
}

func (la *linkAddrs) find(a netlink.Addr) (*[]seenAddr, int) {
	l := la.list(a)
	key := ipNetPrefix(a.IPNet)
	for i := range *l {
		if ipNetPrefix((*l)[i].IPNet) == key {
			return l, i
		}
	}
	return l, -1
}

func (la *linkAddrs) remove(a netlink.Addr) {
	if l, i := la.find(a); i >= 0 {
		*l = slices.Delete(*l, i, i+1)
	}
}

// put updates a known address in place and inserts a new one as the
// kernel does: an IPv4 primary after the last primary of the same or a
// narrower scope, an IPv4 secondary last; an IPv6 address before the first
// of the same or a wider scope (so the newest comes first).
func (la *linkAddrs) put(a seenAddr) {
	l, i := la.find(a.Addr)
	if i >= 0 {
		(*l)[i] = a
		return
	}
	at := len(*l)
	if a.IP.To4() != nil {
		if a.Flags&unix.IFA_F_SECONDARY == 0 {
			at = 0
			for j, b := range *l {
				if b.Flags&unix.IFA_F_SECONDARY == 0 && a.Scope <= b.Scope {
					at = j + 1
				}
			}
		}
	} else {
		for j, b := range *l {
			if ipv6Scope(a.Scope) >= ipv6Scope(b.Scope) {
				at = j
				break
			}
		}
	}
	*l = slices.Insert(*l, at, a)
}

// ipv6Scope maps a route scope to the address scope (RFC 4291) by which
// the kernel orders a link's IPv6 addresses: global, then link-local, then
// loopback.
func ipv6Scope(rtScope int) int {
	switch rtScope {
	case unix.RT_SCOPE_HOST:
		return 0x1
	case unix.RT_SCOPE_LINK:
		return 0x2
	case unix.RT_SCOPE_SITE:
		return 0x5
	}
	return 0xe
}

// parseAddrMsg decodes an RTM_NEWADDR or RTM_DELADDR message into the
// fields hostnetd reads: the netlink library decodes them only inside its
// own subscription loop.
func parseAddrMsg(b []byte) (netlink.Addr, bool) {
	if len(b) < unix.SizeofIfAddrmsg {
		return netlink.Addr{}, false
	}
	msg := nl.DeserializeIfAddrmsg(b)
	attrs, err := nl.ParseRouteAttr(b[msg.Len():])
	if err != nil {
		return netlink.Addr{}, false
	}
	a := netlink.Addr{LinkIndex: int(msg.Index), Scope: int(msg.Scope), Flags: int(msg.Flags)}
	var local, address []byte
	for _, attr := range attrs {
		switch attr.Attr.Type {
		case unix.IFA_ADDRESS:
			address = attr.Value
		case unix.IFA_LOCAL:
			local = attr.Value
		case unix.IFA_FLAGS:
			if len(attr.Value) >= 4 {
				a.Flags = int(nl.NativeEndian().Uint32(attr.Value))
			}
		case unix.IFA_CACHEINFO:
			ci := nl.DeserializeIfaCacheInfo(attr.Value)
			a.PreferedLft, a.ValidLft = int(ci.Prefered), int(ci.Valid)
		}
	}
	// IPv4 sends the address as IFA_LOCAL (IFA_ADDRESS is the peer);
	// IPv6 sends only IFA_ADDRESS.
	ip := local
	if ip == nil {
		ip = address
	}
	if ip == nil {
		return netlink.Addr{}, false
	}
	a.IPNet = &net.IPNet{IP: net.IP(bytes.Clone(ip)), Mask: net.CIDRMask(int(msg.Prefixlen), 8*len(ip))}
	return a, true
}
