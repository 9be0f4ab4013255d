package agent

import (
	"context"
	"net/http"
	"time"
)

// handlerWait is what the other requests (reads, an events stream) get
// to end once no transaction runs any more.
const handlerWait = 5 * time.Second

// shutdown stops the agent after Run's context ended: the engine drains
// (no transaction starts any more, the one in flight finishes or rolls
// back: engine.Drain), then the HTTP server stops.
func (a *Agent) shutdown(srv *http.Server, cancelTx context.CancelFunc) error {
	a.notify("STOPPING=1\nSTATUS=stopping")
	served := make(chan error, 1)
	// Shutdown closes the listeners at once, then waits for the requests
	// in progress, among them the transaction's.
	go func() { served <- srv.Shutdown(context.Background()) }()
	a.eng.Drain(cancelTx)
	timer := time.NewTimer(handlerWait)
	defer timer.Stop()
	select {
	case err := <-served:
		return err
	case <-timer.C:
		cancelTx() // ends the remaining requests' contexts
		err := srv.Close()
		<-served
		return err
	}
}
