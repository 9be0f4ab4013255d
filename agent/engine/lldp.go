package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/netconf/lldp"
)

const (
	// lldpMaxNeighbors bounds the neighbours kept per link; the LLDPDUs of
	// more are counted (too_many_neighbors) and dropped. A switch port has
	// one; a few more cover hubs and unmanaged switches in between.
	lldpMaxNeighbors = 8
	// lldpRescan is how often the listeners are reconciled with the links
	// without a kernel notification (a fallback: notifications do it).
	lldpRescan = 30 * time.Second
	// lldpRetry is the pause after a socket error other than a link going
	// down, so a broken socket does not spin.
	lldpRetry = time.Second
	// lldpSettle lets a burst of kernel notifications end before the
	// links are read; lldpBusyRetry is when to look again after a
	// transaction held the writer slot.
	lldpSettle    = 100 * time.Millisecond
	lldpBusyRetry = 500 * time.Millisecond
)

// LLDP frame results, the label of hostnetd_lldp_frames_total.
const (
	lldpAccepted  = "accepted"
	lldpMalformed = "malformed"
	lldpOversized = "oversized"
	lldpTooMany   = "too_many_neighbors"
	lldpOtherDest = "not_nearest_bridge"
)

// lldpNearestBridge is the destination of the LLDPDUs hostnetd reads: the
// nearest bridge agent's, the one switches send to and the one VDSM's
// lldpad reads. LLDPDUs to the other agents' addresses (nearest customer
// bridge, nearest non-TPMR bridge) describe other neighbours and are not
// mixed in.
var lldpNearestBridge = []byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}

// lldpListeners receives LLDP on every NIC (bond slaves included): one raw
// socket and goroutine per link, started when the link appears and stopped
// when it goes, and keeps each link's neighbours until their TTL runs out.
type lldpListeners struct {
	log    *zap.Logger
	ns     *kernel.Namespace
	record func(severity, code, description string)
	frames *prometheus.CounterVec
	// state reads the links (the monitor's view).
	state func() (*netconf.State, error)
	// busy says a transaction holds the writer slot: the links are read
	// after it, as the drift watcher does, so that a big transaction's
	// notifications are not parsed while it runs. Optional.
	busy func() bool
	kick chan struct{}
	// wake has the manager look again at when the next neighbour expires.
	wake chan struct{}
	now  func() time.Time

	// failed remembers the links (name → index) whose socket could not
	// be opened, retried only by the periodic rescan, and warned about
	// once; pending says a reconcile waits for the writer slot. Only run's
	// goroutine uses them.
	failed  map[string]int
	pending bool

	// mu guards links and their neighbours.
	mu    sync.Mutex
	links map[string]*lldpLink // by name
}

type lldpLink struct {
	index  int
	name   string
	cancel context.CancelFunc
	done   chan struct{}
	// neighbors by MSAP key; the manager's mutex guards them.
	neighbors map[string]*lldpNeighbor
}

type lldpNeighbor struct {
	n       *lldp.Neighbor
	expires time.Time
}

func newLLDPListeners(log *zap.Logger, ns *kernel.Namespace, record func(string, string, string), reg prometheus.Registerer) *lldpListeners {
	l := &lldpListeners{
		log: log, ns: ns, record: record, kick: make(chan struct{}, 1), wake: make(chan struct{}, 1), now: time.Now,
		links: map[string]*lldpLink{}, failed: map[string]int{},
		frames: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hostnetd_lldp_frames_total",
			Help: "LLDP frames received, by result: accepted, malformed and oversized (dropped), too_many_neighbors (dropped: the link already has the most neighbours kept), not_nearest_bridge (ignored: sent to another LLDP agent's address).",
		}, []string{"result"}),
	}
	reg.MustRegister(l.frames, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hostnetd_lldp_neighbors",
		Help: "LLDP neighbours known now, on every link.",
	}, func() float64 { return float64(l.count()) }))
	for _, r := range []string{lldpAccepted, lldpMalformed, lldpOversized, lldpTooMany, lldpOtherDest} {
		l.frames.WithLabelValues(r)
	}
	return l
}

// kicked asks the manager to reconcile the listeners with the links; it
// never blocks.
func (l *lldpListeners) kicked() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// lldpLinkWanted says whether hostnetd listens on a link: NICs (physical
// devices and veths, enslaved or not), not loopback. Bonds, bridges and
// VLAN devices pass on what their NICs receive; LLDP is link-local to each
// NIC.
func lldpLinkWanted(link *netconf.Link) bool {
	return (link.Kind == netconf.KindDevice || link.Kind == netconf.KindVeth) && link.Name != "lo"
}

// run reconciles the listeners with the links on each kick (and every
// lldpRescan), and expires neighbours as their TTL runs out, until ctx
// ends; then it stops every listener and waits for them.
func (l *lldpListeners) run(ctx context.Context) {
	defer l.stopAll()
	l.reconcile(ctx, true)
	timer := time.NewTimer(lldpRescan)
	defer timer.Stop()
	rescan := time.Now().Add(lldpRescan)
	var lastLook time.Duration
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.kick:
			select { // fold the notifications of a burst into one read
			case <-ctx.Done():
				return
			case <-time.After(pacedWait(lldpSettle, lastLook)):
			}
			select {
			case <-l.kick:
			default:
			}
			start := time.Now()
			l.reconcile(ctx, false)
			lastLook = time.Since(start)
		case <-timer.C:
			if l.pending {
				l.reconcile(ctx, false)
			}
			if !time.Now().Before(rescan) {
				l.reconcile(ctx, true)
				rescan = time.Now().Add(lldpRescan)
			}
		case <-l.wake:
		}
		l.expire()
		wake := min(l.nextWake(), max(time.Until(rescan), time.Millisecond))
		if l.pending {
			wake = min(wake, lldpBusyRetry)
		}
		timer.Reset(wake)
	}
}

// nextWake is how long until the next neighbour expires, or lldpRescan.
func (l *lldpListeners) nextWake() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	wake := lldpRescan
	now := l.now()
	for _, link := range l.links {
		for _, nb := range link.neighbors {
			if d := nb.expires.Sub(now); d < wake {
				wake = max(d, time.Millisecond)
			}
		}
	}
	return wake
}

// reconcile starts a listener on every NIC that has none and stops those
// of links that are gone or were re-created. A link whose socket could
// not be opened is tried again only with retry (the periodic rescan).
func (l *lldpListeners) reconcile(ctx context.Context, retry bool) {
	if l.busy != nil && l.busy() {
		l.pending = true
		return
	}
	l.pending = false
	st, err := l.state()
	if err != nil {
		l.log.Warn("LLDP: reading the links", zap.Error(err))
		return
	}
	want := map[string]*netconf.Link{}
	for i := range st.Links {
		if lldpLinkWanted(&st.Links[i]) {
			want[st.Links[i].Name] = &st.Links[i]
		}
	}
	var stopped []*lldpLink
	l.mu.Lock()
	for name, link := range l.links {
		if w := want[name]; w == nil || w.Index != link.index {
			stopped = append(stopped, link)
			delete(l.links, name)
		}
	}
	// A link that went down loses its neighbours (802.1AB: the
	// information of a disabled port is deleted); they come back with the
	// next LLDPDU once it is up.
	var down []string
	for name, link := range l.links {
		if w := want[name]; (!w.AdminUp || w.OperState == netconf.OperDown) && len(link.neighbors) > 0 {
			why := "it was set down"
			if w.AdminUp {
				why = "no carrier"
			}
			for _, key := range slices.Sorted(maps.Keys(link.neighbors)) {
				down = append(down, fmt.Sprintf("LLDP neighbour %s on %s is gone: the link went down (%s)", describe(link.neighbors[key].n), name, why))
			}
			clear(link.neighbors)
		}
	}
	l.mu.Unlock()
	slices.Sort(down)
	for _, m := range down {
		l.record("normal", "LLDP_NEIGHBOR_LOST", m)
	}
	for _, link := range stopped {
		link.cancel()
		<-link.done
		for _, nb := range link.neighbors {
			l.record("normal", "LLDP_NEIGHBOR_LOST", fmt.Sprintf("LLDP neighbour %s on %s is gone: the link was removed", describe(nb.n), link.name))
		}
	}
	for name := range l.failed {
		if w := want[name]; w == nil || w.Index != l.failed[name] {
			delete(l.failed, name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		l.mu.Lock()
		_, running := l.links[name]
		l.mu.Unlock()
		w := want[name]
		if idx, failed := l.failed[name]; running || (failed && idx == w.Index && !retry) {
			continue
		}
		conn, err := kernel.ListenLLDP(l.ns, w.Index, w.Name)
		if err != nil {
			// The link may be gone already (its removal reconciles again);
			// otherwise the rescan retries, and only the first failure warns.
			level := zap.WarnLevel
			if _, failed := l.failed[name]; failed {
				level = zap.DebugLevel
			}
			l.log.Log(level, "LLDP: cannot listen; retrying every 30 s", zap.String("link", name), zap.Error(err))
			l.failed[name] = w.Index
			continue
		}
		delete(l.failed, name)
		lctx, cancel := context.WithCancel(ctx)
		link := &lldpLink{index: w.Index, name: w.Name, cancel: cancel, done: make(chan struct{}), neighbors: map[string]*lldpNeighbor{}}
		l.mu.Lock()
		l.links[name] = link
		l.mu.Unlock()
		go l.listen(lctx, link, conn)
		l.log.Debug("LLDP: listening", zap.String("link", name))
	}
}

func (l *lldpListeners) stopAll() {
	l.mu.Lock()
	links := slices.Collect(maps.Values(l.links))
	l.links = map[string]*lldpLink{}
	l.mu.Unlock()
	for _, link := range links {
		link.cancel()
	}
	for _, link := range links {
		<-link.done
	}
}

// listen reads the LLDP frames of one link until ctx ends.
func (l *lldpListeners) listen(ctx context.Context, link *lldpLink, conn *kernel.LLDPConn) {
	defer close(link.done)
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	// One byte more than the largest acceptable frame; ReadFrame reports
	// the real size of a larger one, which is not kept.
	buf := make([]byte, lldp.MaxFrame+1)
	for {
		n, size, err := conn.ReadFrame(buf)
		if ctx.Err() != nil {
			return
		}
		switch {
		case errors.Is(err, unix.ENETDOWN):
			// The link went down; the socket resumes when it comes up.
			continue
		case errors.Is(err, os.ErrDeadlineExceeded):
			continue
		case err != nil:
			l.log.Warn("LLDP: reading", zap.String("link", link.name), zap.Error(err))
			select {
			case <-ctx.Done():
				return
			case <-time.After(lldpRetry):
			}
			continue
		}
		if size > lldp.MaxFrame {
			l.frames.WithLabelValues(lldpOversized).Inc()
			l.log.Debug("LLDP: dropped an oversized frame", zap.String("link", link.name), zap.Int("bytes", size))
			continue
		}
		if n >= 6 && !bytes.Equal(buf[:6], lldpNearestBridge) {
			l.frames.WithLabelValues(lldpOtherDest).Inc()
			continue
		}
		nb, err := lldp.Decode(buf[:n])
		if err != nil {
			result := lldpMalformed
			if errors.Is(err, lldp.ErrOversized) {
				result = lldpOversized
			}
			l.frames.WithLabelValues(result).Inc()
			l.log.Debug("LLDP: dropped a frame", zap.String("link", link.name), zap.Error(err))
			continue
		}
		l.update(link, nb)
	}
}

// update records an LLDPDU from a neighbour of link, and the event it
// makes: a new neighbour, a changed one, or one that shuts down (TTL 0).
func (l *lldpListeners) update(link *lldpLink, nb *lldp.Neighbor) {
	l.mu.Lock()
	if l.links[link.name] != link { // stopped meanwhile
		l.mu.Unlock()
		return
	}
	old := link.neighbors[nb.Key]
	if old == nil && nb.TTL != 0 && len(link.neighbors) >= lldpMaxNeighbors {
		l.mu.Unlock()
		l.frames.WithLabelValues(lldpTooMany).Inc()
		return
	}
	l.frames.WithLabelValues(lldpAccepted).Inc()
	var severity, code, msg string
	switch {
	case nb.TTL == 0:
		if old != nil {
			delete(link.neighbors, nb.Key)
			severity, code, msg = "normal", "LLDP_NEIGHBOR_LOST", fmt.Sprintf("LLDP neighbour %s on %s is gone: it shut down (TTL 0)", describe(old.n), link.name)
		}
	case old == nil:
		link.neighbors[nb.Key] = &lldpNeighbor{n: nb, expires: l.now().Add(time.Duration(nb.TTL) * time.Second)}
		severity, code, msg = "normal", "LLDP_NEIGHBOR_DISCOVERED", fmt.Sprintf("LLDP neighbour %s discovered on %s", describe(nb), link.name)
	default:
		changes := lldp.Changes(old.n, nb)
		old.n, old.expires = nb, l.now().Add(time.Duration(nb.TTL)*time.Second)
		if len(changes) > 0 {
			severity, code, msg = "normal", "LLDP_NEIGHBOR_CHANGED", fmt.Sprintf("LLDP neighbour %s on %s changed: %s", describe(nb), link.name, strings.Join(changes, ", "))
		}
	}
	l.mu.Unlock()
	if code != "" {
		l.record(severity, code, msg)
	}
	select { // the next expiry may be sooner now
	case l.wake <- struct{}{}:
	default:
	}
}

// expire drops the neighbours whose TTL ran out, with an event each.
func (l *lldpListeners) expire() {
	now := l.now()
	var msgs []string
	l.mu.Lock()
	for _, link := range l.links {
		for key, nb := range link.neighbors {
			if !now.Before(nb.expires) {
				delete(link.neighbors, key)
				msgs = append(msgs, fmt.Sprintf("LLDP neighbour %s on %s is gone: its information expired (TTL %d s)", describe(nb.n), link.name, nb.n.TTL))
			}
		}
	}
	l.mu.Unlock()
	slices.Sort(msgs)
	for _, m := range msgs {
		l.record("normal", "LLDP_NEIGHBOR_LOST", m)
	}
}

func (l *lldpListeners) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	now := l.now()
	for _, link := range l.links {
		for _, nb := range link.neighbors {
			if now.Before(nb.expires) {
				n++
			}
		}
	}
	return n
}

// elements returns the current (unexpired) neighbours of a link, ordered by
// key; none when hostnetd does not listen on it.
func (l *lldpListeners) neighbors(name string) []*lldp.Neighbor {
	l.mu.Lock()
	defer l.mu.Unlock()
	link := l.links[name]
	if link == nil {
		return nil
	}
	now := l.now()
	var out []*lldp.Neighbor
	for _, key := range slices.Sorted(maps.Keys(link.neighbors)) {
		if nb := link.neighbors[key]; now.Before(nb.expires) {
			out = append(out, nb.n)
		}
	}
	return out
}

// describe names a neighbour in events and logs.
func describe(n *lldp.Neighbor) string {
	if n.SystemName != "" {
		return fmt.Sprintf("%q (chassis %s, port %s)", n.SystemName, n.ChassisID, n.PortID)
	}
	return fmt.Sprintf("chassis %s, port %s", n.ChassisID, n.PortID)
}
