package integration

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/logbuf"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// notifySocket plays systemd's side of sd_notify: a datagram socket whose
// path the daemon gets in $NOTIFY_SOCKET.
type notifySocket struct {
	conn *net.UnixConn
	path string
}

func listenNotify(t *testing.T) *notifySocket {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &notifySocket{conn: conn, path: path}
}

// next returns the next notification, or false after timeout.
func (s *notifySocket) next(timeout time.Duration) (string, bool) {
	buf := make([]byte, 4096)
	_ = s.conn.SetReadDeadline(time.Now().Add(timeout))
	n, err := s.conn.Read(buf)
	if err != nil {
		return "", false
	}
	return string(buf[:n]), true
}

// stop sends SIGTERM and waits for the daemon to exit.
func (d *daemon) stop(t *testing.T) error {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatalf("hostnetd did not exit within 60 s of SIGTERM\n%s", d.log)
		return nil
	}
}

// serviceHost is a host namespace with NICs eth0..eth3.
func serviceHost(t *testing.T) *kernel.Namespace {
	t.Helper()
	host, peer := nstest.New(t), nstest.New(t)
	for i := range 4 {
		nstest.Veth(t, host, "eth"+strconv.Itoa(i), peer, "p"+strconv.Itoa(i))
	}
	return host
}

// TestReadyIsNotifiedOnlyAfterRestore starts hostnetd as systemd would
// after a reboot: a committed configuration to restore, restore slowed
// down, $NOTIFY_SOCKET set. READY=1 must come once the configuration is
// back in the kernel, after the restore transaction's STATUS=, and a stop
// must say STOPPING=1 and exit 0.
func TestReadyIsNotifiedOnlyAfterRestore(t *testing.T) {
	host := serviceHost(t)
	dir := t.TempDir()
	commitTwoNetworks(t, agenttest.StartWith(t, host, dir, nil))
	// A reboot: the bridges are gone, /run is empty.
	wipeManaged(t, host, []string{"n0", "n1"}, []string{"eth0", "eth1"})
	if err := os.RemoveAll(filepath.Join(dir, "run")); err != nil {
		t.Fatal(err)
	}

	notify := listenNotify(t)
	d := launchDaemon(t, host, dir, []string{"NOTIFY_SOCKET=" + notify.path}, "--test-step-delay", "100ms")
	var before []string
	for {
		msg, ok := notify.next(30 * time.Second)
		if !ok {
			t.Fatalf("no READY=1 within 30 s; got %q\n%s", before, d.log)
		}
		if strings.Contains(msg, "WATCHDOG=1") {
			t.Errorf("a watchdog ping without WATCHDOG_USEC: %q", msg)
		}
		if !strings.Contains(msg, "READY=1") {
			before = append(before, msg)
			continue
		}
		// Right at READY the committed configuration is in the kernel.
		for _, nic := range []string{"eth0", "eth1"} {
			if _, master, _ := linkState(t, host, nic); master != "n"+nic[3:] {
				t.Errorf("at READY=1, %s master = %q; want n%s: READY came before restore finished", nic, master, nic[3:])
			}
		}
		if !strings.Contains(msg, "STATUS=serving") {
			t.Errorf("READY=1 without STATUS=serving: %q", msg)
		}
		break
	}
	if joined := strings.Join(before, "\n"); !strings.Contains(joined, "STATUS=restoring the persistent configuration: transaction") {
		t.Errorf("no STATUS= of the restore transaction before READY=1: %q", before)
	}
	if code, err := d.post("/hosts/"+hostIDOf(t, dir)+"/commitnetconfig", "<action/>"); err != nil || code != http.StatusOK {
		t.Errorf("a write right after READY=1: %d %v", code, err)
	}
	if err := d.stop(t); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, d.log)
	}
	var after []string
	for msg, ok := notify.next(time.Second); ok; msg, ok = notify.next(100 * time.Millisecond) {
		after = append(after, msg)
	}
	if !strings.Contains(strings.Join(after, "\n"), "STOPPING=1") {
		t.Errorf("no STOPPING=1 after SIGTERM: %q", after)
	}
}

// TestWatchdogIsPinged: with WATCHDOG_USEC set, hostnetd pings every half
// interval.
func TestWatchdogIsPinged(t *testing.T) {
	host := nstest.New(t)
	notify := listenNotify(t)
	d := launchDaemon(t, host, t.TempDir(), []string{"NOTIFY_SOCKET=" + notify.path, "WATCHDOG_USEC=200000"})
	d.waitUp(t) // under the VM's emulation the start alone takes seconds
	pings := 0
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		if msg, ok := notify.next(time.Until(deadline)); ok && strings.Contains(msg, "WATCHDOG=1") {
			pings++
		}
	}
	// Every 100 ms for 2 s: about 20; a missed beat or two is no failure.
	if pings < 10 {
		t.Errorf("%d watchdog pings in 2 s at WATCHDOG_USEC=200000; want about 20\n%s", pings, d.log)
	}
	if err := d.stop(t); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}

// TestANotifyQueueNobodyReadsBlocksNothing: systemd's queue for a
// datagram socket holds ten notifications; with a reader that lags, the
// watchdog's beats fill it. Restore, requests and transactions must go on
// regardless (a blocked sd_notify once held restore at boot for ever).
func TestANotifyQueueNobodyReadsBlocksNothing(t *testing.T) {
	host := nstest.New(t)
	peer := nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	notify := listenNotify(t) // never read until the end
	dir := t.TempDir()
	d := launchDaemon(t, host, dir, []string{"NOTIFY_SOCKET=" + notify.path, "WATCHDOG_USEC=20000"})
	time.Sleep(500 * time.Millisecond) // 50 beats: the queue is full
	d.waitUp(t)
	if code, err := d.post("/networks", `<network><name>n0</name></network>`); err != nil || code != http.StatusCreated {
		t.Fatalf("POST network: %d %v\n%s", code, err, d.log)
	}
	done := make(chan answer, 1)
	go func() {
		code, err := d.post("/hosts/"+hostIDOf(t, dir)+"/setupnetworks", modified(staticAttachment("n0", "eth0", "192.0.2.1", "24")))
		done <- answer{status: code, err: err}
	}()
	select {
	case a := <-done:
		if a.err != nil || a.status != http.StatusOK {
			t.Fatalf("setupnetworks: %d %v\n%s", a.status, a.err, d.log)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("setupnetworks did not answer within 30 s with systemd's queue full\n%s", d.log)
	}
	if err := d.stop(t); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}

// slowRequest is a 15-step setupnetworks (three bridged networks with
// addresses), the daemon slowed to stepDelay per kernel write.
func slowRequest(t *testing.T, d *daemon) string {
	t.Helper()
	for _, n := range []string{"n0", "n1", "n2"} {
		if code, err := d.post("/networks", `<network><name>`+n+`</name><mtu>2000</mtu><usages><usage>vm</usage></usages></network>`); err != nil || code != http.StatusCreated {
			t.Fatalf("POST network %s: %d %v", n, code, err)
		}
	}
	return modified(staticAttachment("n0", "eth0", "192.0.2.1", "24"), staticAttachment("n1", "eth1", "192.0.2.2", "24"),
		staticAttachment("n2", "eth3", "192.0.2.3", "24"))
}

type answer struct {
	status int
	body   string
	err    error
}

// sigtermMidApply sends request, waits until its apply has begun (the
// journal exists) and a few steps more, then sends SIGTERM; it returns the
// answer to the request and the daemon's exit.
func sigtermMidApply(t *testing.T, d *daemon, dir, request string, into time.Duration) (answer, error) {
	t.Helper()
	answers := make(chan answer, 1)
	go func() {
		resp, err := d.client.Post("http://hostnetd/ovirt-engine/api/hosts/"+hostIDOf(t, dir)+"/setupnetworks", "application/xml", strings.NewReader(request))
		if err != nil {
			answers <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		answers <- answer{status: resp.StatusCode, body: string(body)}
	}()
	journal := filepath.Join(dir, "state", "journal.json")
	for deadline := time.Now().Add(eventWait); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(journal); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the transaction did not start\n%s", d.log)
		}
	}
	time.Sleep(into)
	exited := make(chan error, 1)
	go func() { exited <- d.stop(t) }()
	// Stopping: the listener goes at once (its socket file with it), while
	// the transaction runs on; no new connection is accepted.
	for deadline := time.Now().Add(eventWait); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(d.socket); err != nil {
			break
		}
	}
	if resp, err := d.client.Get("http://hostnetd/ovirt-engine/api"); err == nil {
		resp.Body.Close()
		t.Errorf("a new request was served while stopping: %d", resp.StatusCode)
	}
	a := <-answers
	if _, err := os.Stat(journal); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the journal is still there after the stop: %v", err)
	}
	return a, <-exited
}

// TestSIGTERMLetsTheTransactionFinish: a stop in the middle of an apply
// waits for it; the client gets its answer and the kernel holds the whole
// new configuration.
func TestSIGTERMLetsTheTransactionFinish(t *testing.T) {
	host := serviceHost(t)
	dir := t.TempDir()
	d := startDaemon(t, host, dir, "--test-step-delay", "100ms")
	request := slowRequest(t, d)
	before := dump(t, host)
	a, exit := sigtermMidApply(t, d, dir, request, 300*time.Millisecond)
	if a.err != nil || a.status != http.StatusOK {
		t.Fatalf("the interrupted request: %d %v\n%s\n%s", a.status, a.err, a.body, d.log)
	}
	if exit != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", exit, d.log)
	}
	if dump(t, host) == before {
		t.Fatal("the kernel is as before: the transaction did not finish")
	}
	// The whole change is there: sent again, it makes no kernel write.
	d = startDaemon(t, host, dir)
	resp, err := d.client.Post("http://hostnetd/ovirt-engine/api/hosts/"+hostIDOf(t, dir)+"/setupnetworks", "application/xml", strings.NewReader(request))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if w := resp.Header.Get("X-Hostnetd-Kernel-Writes"); resp.StatusCode != 200 || w != "0" {
		t.Errorf("the same request after the restart: %d with %s kernel writes; want 200 and 0", resp.StatusCode, w)
	}
}

// TestSIGTERMRollsBackAfterTheGrace: when the transaction outlives the
// shutdown grace, it is cancelled and rolled back before the exit: the
// kernel is exactly as before.
func TestSIGTERMRollsBackAfterTheGrace(t *testing.T) {
	host := serviceHost(t)
	dir := t.TempDir()
	d := startDaemon(t, host, dir, "--test-step-delay", "100ms", "--shutdown-grace", "200ms")
	request := slowRequest(t, d)
	before := dump(t, host)
	a, exit := sigtermMidApply(t, d, dir, request, 200*time.Millisecond)
	if a.err != nil || a.status != http.StatusServiceUnavailable || !strings.Contains(a.body, "<code>SHUTTING_DOWN</code>") {
		t.Errorf("the interrupted request: %d %v; want 503 SHUTTING_DOWN\n%s", a.status, a.err, a.body)
	}
	if exit != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", exit, d.log)
	}
	if got := dump(t, host); got != before {
		t.Errorf("after the stop the kernel differs from before:\n--- before\n%s\n--- after\n%s\n--- log\n%s", before, got, d.log)
	}
	if !strings.Contains(d.log.String(), "did not finish within the shutdown grace") {
		t.Errorf("the log does not say the transaction was cancelled:\n%s", d.log)
	}
}

// TestOneLogLinePerTransaction: at the default level a transaction writes
// exactly one line, with its id, result, duration and counts.
func TestOneLogLinePerTransaction(t *testing.T) {
	host := serviceHost(t)
	dir := t.TempDir()
	d := startDaemon(t, host, dir)
	if code, err := d.post("/networks", `<network><name>n0</name><usages><usage>vm</usage></usages></network>`); err != nil || code != http.StatusCreated {
		t.Fatalf("POST network: %d %v", code, err)
	}
	for _, tt := range []struct {
		request, result string
		status          int
	}{
		{modified(staticAttachment("n0", "eth0", "192.0.2.1", "24")), "applied", 200},
		{modified(staticAttachment("n0", "eth0", "192.0.2.1", "24")), "unchanged", 200},
		{modified(staticAttachment("n0", "eth0", "192.0.2.999", "24")), "rejected", 400},
	} {
		mark := len(d.log.String())
		if code, err := d.post("/hosts/"+hostIDOf(t, dir)+"/setupnetworks", tt.request); err != nil || code != tt.status {
			t.Fatalf("setupnetworks: %d %v; want %d", code, err, tt.status)
		}
		// The log comes through a pipe: wait for the line, then a moment
		// more for any other.
		for deadline := time.Now().Add(eventWait); !strings.Contains(d.log.String()[mark:], "\n") && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		lines := strings.Split(strings.TrimSpace(d.log.String()[mark:]), "\n")
		if len(lines) != 1 {
			t.Errorf("%s: %d log lines; want 1:\n%s", tt.result, len(lines), strings.Join(lines, "\n"))
			continue
		}
		for _, want := range []string{"\tinfo\t", `"transaction": "`, `"result": "` + tt.result + `"`, `"duration": `, `"steps": `, `"kernel_writes": `} {
			if !strings.Contains(lines[0], want) {
				t.Errorf("%s: the line lacks %s:\n%s", tt.result, want, lines[0])
			}
		}
	}
}

// TestStartRefusesUnsafeAccess: hostnetd refuses to start with a TCP
// listener on a non-loopback address without TLS, with a TCP listener and
// no credentials, or with secrets that others can read. Nothing is bound:
// the address is checked first.
func TestStartRefusesUnsafeAccess(t *testing.T) {
	host := nstest.New(t)
	dir := t.TempDir()
	tokens := secretFile(t, dir, "tokens", monitorToken+" ro\n")
	readable := filepath.Join(dir, "readable-tokens")
	if err := os.WriteFile(readable, []byte(monitorToken+" ro\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(readable, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"non-loopback without TLS", []string{"--listen", "tcp:0.0.0.0:0", "--tokens-file", tokens}, "requires TLS"},
		{"all addresses without TLS", []string{"--listen", "tcp::0", "--tokens-file", tokens}, "requires TLS"},
		{"TCP without credentials", []string{"--listen", "tcp:127.0.0.1:0"}, "needs --tokens-file or --users-file"},
		{"group/world-readable tokens", []string{"--listen", "tcp:127.0.0.1:0", "--tokens-file", readable}, "mode 0644"},
	} {
		args := append([]string{"--netns", host.Name, "--state-dir", filepath.Join(dir, "state"), "--run-dir", filepath.Join(dir, "run"),
			"--resolv-conf", "none"}, tt.args...)
		cmd := exec.Command(hostnetdBinary(t), args...)
		out, err := runWithin(cmd, time.Minute) // the VM's emulation starts slowly
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() == 0 {
			t.Errorf("%s: hostnetd did not refuse to start (%v)\n%s", tt.name, err, out)
			continue
		}
		if !strings.Contains(out, tt.want) {
			t.Errorf("%s: the refusal does not say %q:\n%s", tt.name, tt.want, out)
		}
	}
}

func runWithin(cmd *exec.Cmd, timeout time.Duration) (string, error) {
	var out logbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		return out.String(), errors.New("still running: it started")
	}
}

// TestSIGHUPReloadsTheCredentials: systemctl reload (SIGHUP) puts a
// rewritten tokens file in force without a restart, telling systemd
// RELOADING=1 and READY=1; a tokens file that no longer reads keeps the
// tokens in force; the daemon runs on through both.
func TestSIGHUPReloadsTheCredentials(t *testing.T) {
	host := nstest.New(t)
	dir := t.TempDir()
	const oldToken, newToken = "old-token-0123456789abcdef", "new-token-0123456789abcdef"
	tokens := secretFile(t, dir, "tokens", oldToken+" rw\n")
	notify := listenNotify(t)
	d := launchDaemon(t, host, dir, []string{"NOTIFY_SOCKET=" + notify.path},
		"--listen", "tcp:127.0.0.1:0", "--tokens-file", tokens)
	d.waitUp(t)
	for {
		if msg, ok := notify.next(20 * time.Second); !ok {
			t.Fatalf("no READY=1\n%s", d.log)
		} else if strings.Contains(msg, "READY=1") {
			break
		}
	}
	_, rest, _ := strings.Cut(d.log.String(), `"address": "tcp:`)
	addr, _, _ := strings.Cut(rest, `"`)
	status := func(token string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/ovirt-engine/api", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET over TCP (%s): %v\n%s", addr, err, d.log)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if old, nw := status(oldToken), status(newToken); old != 200 || nw != 401 {
		t.Fatalf("before the reload: old token %d, new token %d; want 200 and 401", old, nw)
	}

	hangup := func() {
		t.Helper()
		if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		var seen []string
		for !strings.Contains(strings.Join(seen, "\n"), "READY=1") {
			msg, ok := notify.next(20 * time.Second)
			if !ok {
				t.Fatalf("after SIGHUP, notifications %q; want RELOADING=1, then READY=1\n%s", seen, d.log)
			}
			seen = append(seen, msg)
		}
		if !strings.Contains(seen[0], "RELOADING=1") || !strings.Contains(seen[0], "MONOTONIC_USEC=") {
			t.Errorf("the reload began with %q; want RELOADING=1 and MONOTONIC_USEC", seen[0])
		}
	}
	secretFile(t, dir, "tokens", newToken+" ro\n")
	hangup()
	if old, nw := status(oldToken), status(newToken); old != 401 || nw != 200 {
		t.Errorf("after the reload: old token %d, new token %d; want 401 and 200", old, nw)
	}

	secretFile(t, dir, "tokens", "not a token line\n")
	hangup()
	if nw := status(newToken); nw != 200 {
		t.Errorf("after a reload of a broken file the token in force answers %d; want 200", nw)
	}
	if !strings.Contains(d.log.String(), "reloading the credentials failed") {
		t.Errorf("the failed reload is not logged:\n%s", d.log)
	}
	if err := d.stop(t); err != nil {
		t.Errorf("exit after the reloads: %v\n%s", err, d.log)
	}
}
