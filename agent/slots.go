package agent

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Connection slots. Each listener serves at most MaxConnections at once.
// A connection that holds a slot without using it must not keep a client
// that has work out: when every slot is taken and another client connects,
// the connection idle the longest (a kept-alive one between requests, or
// one that has sent nothing for silentGrace since it connected) is closed
// to make room. Only connections in the middle of a request keep their
// slot unconditionally, and those are bounded by the read timeouts. An
// unauthenticated or rate-limited request is also answered with
// "Connection: close" (access.go), so that it gives its slot back at once.

// silentGrace is how long a new connection may stay silent before it can
// lose its slot to a waiting client: a real client sends its request at
// once (after its TLS handshake).
const silentGrace = time.Second

// slotWait bounds how long an accepted connection waits for a slot before
// the listener looks again for one to free (connections change state
// without telling the listener).
const slotWait = 50 * time.Millisecond

type slotListener struct {
	net.Listener
	max int

	mu     sync.Mutex
	conns  map[*slotConn]struct{}
	freed  chan struct{} // a slot was given back (buffered, 1)
	closed chan struct{} // closed by Close
	once   sync.Once
}

type slotConn struct {
	net.Conn
	l *slotListener

	mu      sync.Mutex
	state   http.ConnState
	since   time.Time // when it entered state
	closing bool
}

func newSlotListener(ln net.Listener, max int) *slotListener {
	return &slotListener{Listener: ln, max: max, conns: map[*slotConn]struct{}{}, freed: make(chan struct{}, 1), closed: make(chan struct{})}
}

// Close closes the listener; a connection waiting for a slot is closed too.
func (l *slotListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// Accept accepts the next connection and gives it a slot, making room by
// closing the connection idle the longest when every slot is taken.
func (l *slotListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	sc := &slotConn{Conn: c, l: l, state: http.StateNew, since: time.Now()}
	for {
		l.mu.Lock()
		if len(l.conns) < l.max {
			l.conns[sc] = struct{}{}
			l.mu.Unlock()
			return sc, nil
		}
		victim := l.idlest(time.Now())
		l.mu.Unlock()
		if victim != nil {
			victim.Close() // its slot is free once closed
			continue
		}
		// Every slot serves a request: wait for one to end.
		t := time.NewTimer(slotWait)
		select {
		case <-l.freed:
		case <-t.C:
		case <-l.closed:
			t.Stop()
			c.Close()
			return nil, net.ErrClosed
		}
		t.Stop()
	}
}

// idlest is the connection that has held its slot unused the longest: an
// idle kept-alive one, or a new one silent for silentGrace. l.mu is held.
func (l *slotListener) idlest(now time.Time) *slotConn {
	var victim *slotConn
	var oldest time.Time
	for c := range l.conns {
		c.mu.Lock()
		state, since, closing := c.state, c.since, c.closing
		c.mu.Unlock()
		if closing {
			continue
		}
		evictable := state == http.StateIdle || state == http.StateNew && now.Sub(since) >= silentGrace
		if evictable && (victim == nil || since.Before(oldest)) {
			victim, oldest = c, since
		}
	}
	if victim != nil {
		victim.mu.Lock()
		victim.closing = true
		victim.mu.Unlock()
	}
	return victim
}

func (c *slotConn) setState(s http.ConnState) {
	c.mu.Lock()
	c.state, c.since = s, time.Now()
	c.mu.Unlock()
}

// Close closes the connection and gives its slot back.
func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.l.mu.Lock()
	if _, ok := c.l.conns[c]; ok {
		delete(c.l.conns, c)
		select {
		case c.l.freed <- struct{}{}:
		default:
		}
	}
	c.l.mu.Unlock()
	return err
}

// trackConnState is the server's ConnState hook: it keeps each slot's
// state, so that the listener knows which connections are idle.
func trackConnState(c net.Conn, s http.ConnState) {
	if sc, ok := c.(*slotConn); ok {
		sc.setState(s)
	}
}
