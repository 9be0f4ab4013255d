package agent

import (
	"net"
	"os"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// notify sends a state to systemd (sd_notify): READY=1, STATUS=…,
// WATCHDOG=1, RELOADING=1, STOPPING=1. Without $NOTIFY_SOCKET (not run by systemd, or
// not Type=notify) it does nothing. It never blocks a transaction for long:
// a datagram socket whose reader lags has a full queue (ten datagrams by
// default), and go-systemd's SdNotify would then wait for ever. A state
// that cannot be queued in time is dropped, which costs a STATUS= line or
// a watchdog beat; READY=1 is given longer.
func (a *Agent) notify(state string) { notify(a.log, state) }

// notify is Agent.notify for the engine, which has no agent.
func notify(log *zap.Logger, state string) {
	wait := notifyWait
	if strings.HasPrefix(state, "READY=1") {
		wait = notifyReadyWait
	}
	if err := sdNotify(state, wait); err != nil {
		log.Debug("sd_notify failed", zap.String("state", state), zap.Error(err))
	}
}

// How long a notification may wait for room in systemd's queue.
const (
	notifyWait      = 100 * time.Millisecond
	notifyReadyWait = 10 * time.Second
)

// sdNotify is sd_notify(3) with a deadline.
func sdNotify(state string, wait time.Duration) error {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetWriteDeadline(time.Now().Add(wait)); err != nil {
		return err
	}
	_, err = conn.Write([]byte(state))
	return err
}

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
