package agent

import (
	"sync"

	"github.com/google/uuid"

	"github.com/hostnetd/hostnetd/xmlapi"
)

// The async setupnetworks remembered for GET are bounded in number and
// in the size of the requests they echo (a request for a thousand networks
// is half a megabyte): a client follows its action within moments, and the
// events keep the history. The newest is always kept.
const (
	maxAsyncActions     = 100
	maxAsyncActionBytes = 8 << 20
)

// asyncActions remembers the async setupnetworks the agent accepted, so
// that a client can follow one at the href its 202 named, as it follows an
// engine action accepted with async: in_progress, then complete, or failed
// with the fault a synchronous request would have got.
type asyncActions struct {
	mu    sync.Mutex
	list  []*asyncAction // oldest first
	bytes int            // the sizes of their requests
}

type asyncAction struct {
	id   string
	echo *xmlapi.Node // the request's <action>
	size int          // of the request body the echo holds
	// status and fault are guarded by asyncActions.mu.
	status string
	fault  *Fault
}

// newAsyncAction is an action for a request whose body had size bytes.
func newAsyncAction(echo *xmlapi.Node, size int) *asyncAction {
	return &asyncAction{id: uuid.NewString(), echo: echo, size: size, status: "in_progress"}
}

// add records a newly accepted action, forgetting the oldest beyond the
// bounds. (Its transaction may have finished already.)
func (s *asyncActions) add(act *asyncAction) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = append(s.list, act)
	s.bytes += act.size
	for len(s.list) > 1 && (len(s.list) > maxAsyncActions || s.bytes > maxAsyncActionBytes) {
		s.bytes -= s.list[0].size
		s.list[0] = nil
		s.list = s.list[1:]
	}
}

// finish records the outcome of an action's transaction.
func (s *asyncActions) finish(act *asyncAction, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	act.status = "complete"
	if err != nil {
		act.status, act.fault = "failed", faultOf(err)
	}
}

// get returns the action's status and fault, if it is remembered.
func (s *asyncActions) get(id string) (act *asyncAction, status string, fault *Fault, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.list {
		if a.id == id {
			return a, a.status, a.fault, true
		}
	}
	return nil, "", nil, false
}

// getSetupNetworks is GET /hosts/{id}/setupnetworks/{action}: an accepted
// async setupnetworks as it stands.
func (a *Agent) getSetupNetworks(r *request) (response, error) {
	if err := a.checkHost(r); err != nil {
		return response{}, err
	}
	id := r.param("action")
	act, status, fault, found := a.asyncActions.get(id)
	if !found {
		return response{}, notFound("action", id)
	}
	var xf *xmlapi.Fault
	if fault != nil {
		xf = &fault.Fault
	}
	return ok(xmlapi.ActionOutcome(a.ctx(), act.echo, act.id, status, xf)), nil
}
