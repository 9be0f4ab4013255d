package agent

import (
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// notifier sends states to systemd (sd_notify): READY=1, STATUS=…,
// WATCHDOG=1, RELOADING=1, STOPPING=1. Without $NOTIFY_SOCKET (not run by
// systemd, or not Type=notify) it does nothing.
//
// It keeps one socket connected to systemd's for the life of the process:
// every transaction says what it does in STATUS= when it begins and ends,
// and a socket dialled and closed for each (as go-systemd's SdNotify
// does) was seven system calls each time, a tenth of a setupnetworks that
// changes nothing under emulation. A send that fails for another reason
// than time (systemd re-executed and made its socket anew) dials again
// once.
//
// It never blocks a transaction for long: a datagram socket whose reader
// lags has a full queue (ten datagrams by default), and a plain write
// would then wait for ever. A state that cannot be queued in time is
// dropped, which costs a STATUS= line or a watchdog beat; READY=1 is
// given longer.
type notifier struct {
	log  *zap.Logger
	addr *net.UnixAddr // nil: no $NOTIFY_SOCKET

	mu   sync.Mutex
	conn *net.UnixConn // connected to addr; nil until the first send
}

// newNotifier is a notifier for $NOTIFY_SOCKET as it is now.
func newNotifier(log *zap.Logger) *notifier {
	n := &notifier{log: log}
	if path := os.Getenv("NOTIFY_SOCKET"); path != "" {
		n.addr = &net.UnixAddr{Name: path, Net: "unixgram"}
	}
	return n
}

// How long a notification may wait for room in systemd's queue.
const (
	notifyWait      = 100 * time.Millisecond
	notifyReadyWait = 10 * time.Second
)

// notify sends state; a failure is logged at debug level and dropped.
func (n *notifier) notify(state string) {
	if n.addr == nil {
		return
	}
	wait := notifyWait
	if strings.HasPrefix(state, "READY=1") {
		wait = notifyReadyWait
	}
	if err := n.send(state, wait); err != nil {
		n.log.Debug("sd_notify failed", zap.String("state", state), zap.Error(err))
	}
}

// send writes state as one datagram, within wait.
func (n *notifier) send(state string, wait time.Duration) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	err := n.write(state, wait)
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	n.closeLocked()
	return n.write(state, wait)
}

func (n *notifier) write(state string, wait time.Duration) error {
	if n.conn == nil {
		conn, err := net.DialUnix("unixgram", nil, n.addr)
		if err != nil {
			return err
		}
		n.conn = conn
	}
	if err := n.conn.SetWriteDeadline(time.Now().Add(wait)); err != nil {
		return err
	}
	_, err := n.conn.Write([]byte(state))
	return err
}

func (n *notifier) closeLocked() {
	if n.conn != nil {
		_ = n.conn.Close()
		n.conn = nil
	}
}

// close releases the socket; a later notify dials again.
func (n *notifier) close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closeLocked()
}

// notify is the agent's notifier's notify.
func (a *Agent) notify(state string) { a.notifier.notify(state) }

// notifyReady tells systemd that hostnetd is ready: restore at boot has
// finished, so units ordered after it (network.target) find the host's
// network restored. A failed restore still makes hostnetd ready: it serves,
// so that an administrator can repair the configuration through the API.
func (a *Agent) notifyReady(restoreErr error) {
	status := "serving"
	if restoreErr != nil {
		status = "serving; restoring the persistent configuration failed: " + restoreErr.Error()
	}
	a.notify("READY=1\nSTATUS=" + status)
}

// startWatchdog pings systemd's watchdog (WatchdogSec=) at half its
// interval, as sd_watchdog_enabled(3) advises, for as long as the managed
// namespace still answers a netlink request: a daemon that has lost its
// netlink handle is restarted. It returns the function that stops it.
func (a *Agent) startWatchdog() (stop func()) {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		a.log.Warn("ignoring an invalid watchdog setting", zap.Error(err))
		return func() {}
	}
	if interval <= 0 {
		return func() {}
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(interval / 2)
		defer tick.Stop()
		for {
			if err := a.eng.Alive(); err != nil {
				a.log.Warn("watchdog: the managed namespace does not answer; not pinging", zap.Error(err))
			} else {
				a.notify("WATCHDOG=1")
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// monotonicUsec is CLOCK_MONOTONIC in microseconds, which systemd wants
// with RELOADING=1 to tell this reload from an older one.
func monotonicUsec() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return ts.Nano() / 1000
}
