package integration

import (
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// linkWatch follows one link of a namespace on the kernel's own
// notifications, independently of hostnetd, and keeps the states in which
// the link was not up: admin down, an operstate other than up, deleted.
type linkWatch struct {
	done, collected chan struct{}
	once            sync.Once
	mu              sync.Mutex
	bad             []string
}

// watchLink starts following the named link of ns; it stops at the end of
// the test, or at stop.
func watchLink(t testing.TB, ns *kernel.Namespace, name string) *linkWatch {
	t.Helper()
	w := &linkWatch{done: make(chan struct{}), collected: make(chan struct{})}
	updates := make(chan netlink.LinkUpdate, 1024)
	err := ns.Do(func() error {
		return netlink.LinkSubscribeWithOptions(updates, w.done, netlink.LinkSubscribeOptions{ErrorCallback: func(error) {}})
	})
	if err != nil {
		t.Fatalf("subscribing to link updates in %s: %v", ns.Name, err)
	}
	go func() {
		defer close(w.collected)
		for u := range updates {
			a := u.Link.Attrs()
			if a.Name != name {
				continue
			}
			w.mu.Lock()
			switch {
			case u.Header.Type == unix.RTM_DELLINK:
				w.bad = append(w.bad, "deleted")
			case a.Flags&net.FlagUp == 0:
				w.bad = append(w.bad, "admin down")
			case a.OperState != netlink.OperUp:
				w.bad = append(w.bad, "operstate "+a.OperState.String()+" flags "+a.Flags.String())
			}
			w.mu.Unlock()
		}
	}()
	t.Cleanup(func() { w.stop() })
	return w
}

// notUp is what the watch saw so far.
func (w *linkWatch) notUp() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.bad)
}

// stop ends the watch and returns what it saw.
func (w *linkWatch) stop() []string {
	w.once.Do(func() {
		time.Sleep(100 * time.Millisecond) // let the last events in
		close(w.done)
		// The library closes updates when its receive loop ends, which
		// needs one more message; don't wait for it.
		select {
		case <-w.collected:
		case <-time.After(200 * time.Millisecond):
		}
	})
	return w.notUp()
}
