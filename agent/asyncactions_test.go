package agent

import (
	"errors"
	"net/http"
	"testing"
)

// The actions remembered are bounded: the oldest is forgotten first, and
// an outcome is kept with its fault.
func TestAsyncActionsAreBounded(t *testing.T) {
	var s asyncActions
	first := s.addNew(10)
	var last *asyncAction
	for range maxAsyncActions {
		last = s.addNew(10)
	}
	if _, _, _, found := s.get(first.id); found {
		t.Errorf("the oldest of %d actions is still remembered; the bound is %d", maxAsyncActions+1, maxAsyncActions)
	}
	if _, st, _, found := s.get(last.id); !found || st != "in_progress" {
		t.Errorf("the newest action: %q, %v; want in_progress", st, found)
	}
	s.finish(last, badRequest(CodeInvalidValue, "no"))
	if _, st, f, _ := s.get(last.id); st != "failed" || f == nil || f.Code != CodeInvalidValue {
		t.Errorf("a failed action: %q, %v; want failed with %s", st, f, CodeInvalidValue)
	}
	other := s.addNew(10)
	s.finish(other, errors.New("disk on fire"))
	if _, _, f, _ := s.get(other.id); f == nil || f.Status != http.StatusInternalServerError {
		t.Errorf("an unexpected error: %v; want a 500 fault", f)
	}
}

// Large requests are forgotten sooner: the bytes the echoes hold are
// bounded too, but the newest is kept whatever its size.
func TestAsyncActionsBoundTheirBytes(t *testing.T) {
	var s asyncActions
	small := s.addNew(1 << 20)
	big := s.addNew(maxAsyncActionBytes)
	if _, _, _, found := s.get(small.id); found {
		t.Error("an older action is kept beyond the byte bound")
	}
	if _, _, _, found := s.get(big.id); !found {
		t.Error("the newest action, alone over the byte bound, was forgotten")
	}
	next := s.addNew(1)
	if _, _, _, found := s.get(big.id); found || s.bytes != 1 {
		t.Errorf("after a small action: the big one kept %v, %d bytes held; want it gone and 1", found, s.bytes)
	}
	if _, _, _, found := s.get(next.id); !found {
		t.Error("the newest action was forgotten")
	}
}

// addNew records a new action, as an accepted request does.
func (s *asyncActions) addNew(size int) *asyncAction {
	act := newAsyncAction(nil, size)
	s.add(act)
	return act
}
