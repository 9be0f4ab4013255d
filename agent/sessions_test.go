package agent

import (
	"fmt"
	"testing"
	"time"
)

// TestSessionsOfOneUserCannotEvictAnother: a read-only user logging in
// again and again (1100 times, past the 1024-session table) keeps at most
// maxUserSessions sessions, its own oldest going first, and the engine's
// one session lives on; a full table evicts from the user holding most.
func TestSessionsOfOneUserCannotEvictAnother(t *testing.T) {
	var s sessions
	now := time.Now()
	engine, _ := s.issue(principal{name: "admin@internal", scope: scopeRW}, time.Hour, now)
	var last string
	for i := range 1100 {
		last, _ = s.issue(principal{name: "monitor", scope: scopeRO}, time.Hour, now.Add(time.Duration(i)*time.Millisecond))
	}
	if p, ok := s.lookup(engine, now); !ok || p.name != "admin@internal" {
		t.Fatal("the engine's session was evicted by another user's logins")
	}
	if _, ok := s.lookup(last, now); !ok {
		t.Error("the latest session of the user was evicted")
	}
	count := func(name string) int {
		n := 0
		for _, v := range s.byKey {
			if v.name == name {
				n++
			}
		}
		return n
	}
	if n := count("monitor"); n != maxUserSessions {
		t.Errorf("monitor holds %d sessions; want %d", n, maxUserSessions)
	}
	// Many users filling the table: the one with most sessions pays.
	for u := range 20 {
		for range maxUserSessions {
			s.issue(principal{name: fmt.Sprintf("user%02d", u), scope: scopeRO}, time.Hour, now)
		}
	}
	if len(s.byKey) > maxSessions {
		t.Errorf("%d sessions; the table holds %d", len(s.byKey), maxSessions)
	}
	if _, ok := s.lookup(engine, now); !ok {
		t.Error("the engine's single session was evicted when the table filled")
	}
}
