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
	first := s.add(nil)
	var last *asyncAction
	for range maxAsyncActions {
		last = s.add(nil)
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
	other := s.add(nil)
	s.finish(other, errors.New("disk on fire"))
	if _, _, f, _ := s.get(other.id); f == nil || f.Status != http.StatusInternalServerError {
		t.Errorf("an unexpected error: %v; want a 500 fault", f)
	}
}
