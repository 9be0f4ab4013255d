package agent

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"
)

// notifySocket is a stand-in for systemd's notification socket.
type notifySocket struct {
	t    *testing.T
	conn *net.UnixConn
}

func listenNotifySocket(t *testing.T, path string) *notifySocket {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &notifySocket{t: t, conn: conn}
}

func (s *notifySocket) next() string {
	s.t.Helper()
	buf := make([]byte, 4096)
	if err := s.conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		s.t.Fatal(err)
	}
	n, err := s.conn.Read(buf)
	if err != nil {
		s.t.Fatalf("no notification: %v", err)
	}
	return string(buf[:n])
}

// TestNotifierKeepsItsSocket: the notifier sends every state over one
// socket (a transaction sends two), and when systemd makes its socket anew
// (daemon-reexec) the next state still arrives.
func TestNotifierKeepsItsSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	t.Setenv("NOTIFY_SOCKET", path)
	n := newNotifier(zap.NewNop())
	defer n.close()

	systemd := listenNotifySocket(t, path)
	n.notify("STATUS=one")
	first := n.conn
	n.notify("STATUS=two")
	for _, want := range []string{"STATUS=one", "STATUS=two"} {
		if got := systemd.next(); got != want {
			t.Fatalf("systemd got %q; want %q", got, want)
		}
	}
	if first == nil || n.conn != first {
		t.Fatalf("the second state went over a new socket (%p, then %p)", first, n.conn)
	}

	// systemd re-executes: its old socket is closed, a new one bound at
	// the same path.
	systemd.conn.Close()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	reexecuted := listenNotifySocket(t, path)
	n.notify("READY=1\nSTATUS=three")
	if got := reexecuted.next(); got != "READY=1\nSTATUS=three" {
		t.Fatalf("after systemd made its socket anew it got %q", got)
	}
}

// TestNotifierWithoutSystemd: without $NOTIFY_SOCKET nothing is sent and
// nothing is opened.
func TestNotifierWithoutSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	n := newNotifier(zap.NewNop())
	n.notify("STATUS=nobody listens")
	if n.conn != nil {
		t.Fatal("a socket was opened without $NOTIFY_SOCKET")
	}
}

// TestNotifierDropsWhatSystemdCannotTake: once systemd's queue is full,
// a state is dropped after its wait, not waited for for ever, and the
// notifier goes on.
func TestNotifierDropsWhatSystemdCannotTake(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	t.Setenv("NOTIFY_SOCKET", path)
	listenNotifySocket(t, path) // never read
	n := newNotifier(zap.NewNop())
	defer n.close()
	dropped := 0
	for range 5000 { // far beyond a datagram queue's depth
		start := time.Now()
		n.notify("STATUS=busy")
		switch took := time.Since(start); {
		case took >= time.Minute:
			t.Fatalf("a state waited %v for room in a full queue", took)
		case took >= notifyWait:
			dropped++
		}
		if dropped == 2 {
			return
		}
	}
	t.Fatal("5000 states never filled the queue: the test no longer tests a full queue")
}
