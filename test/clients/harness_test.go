//go:build clients

// Package clients drives the real hostnetd binary with oVirt's own clients:
// the Python SDK (ovirtsdk4) and the Ansible collection ovirt.ovirt, built
// by scripts/install-clients.sh. Run by make test-clients; the tests need
// root (each hostnetd makes its own sandbox namespace) and the clients'
// environment file in $HOSTNETD_CLIENTS_ENV.
package clients

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/logbuf"
)

// The SSO user the clients log in as.
const (
	user     = "admin@internal"
	password = "hostnetd-clients"
)

// probeAddr is the "manager" each sandbox's switch answers at, on the
// switch bridge: reaching it over a new configuration confirms
// connectivity (--connectivity-probe).
const (
	probeNet  = "192.0.2.1/24"
	probeHost = "192.0.2.1"
)

// daemon is a hostnetd binary serving its own sandbox namespace on a TCP
// listener at a loopback address, with an SSO users file.
type daemon struct {
	name     string // the sandbox namespace; its switch is name-sw
	hostName string
	addr     string // HOST:PORT of the TCP listener
	dir      string
	cmd      *exec.Cmd
	log      *logbuf.Buffer
	done     chan error
	probe    net.Listener
}

// URL is the daemon's API URL, as the clients want it.
func (d *daemon) URL() string { return "http://" + d.addr + "/ovirt-engine/api" }

// HostID is the daemon's host id.
func (d *daemon) HostID(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(d.dir, "state", "host-id"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

type daemonConfig struct {
	sandbox  string // sandbox name, unique per test run
	hostName string
	loopback string // 127.0.0.X
	probe    bool   // answer the connectivity probe on the switch
	hostID   string // optional: a fixed host id
	// maxWait is --max-connectivity-timeout: the modules send no
	// connectivity_timeout, so it is how long a check waits.
	maxWait int
}

func hostnetdBinary(t testing.TB) string {
	t.Helper()
	b := os.Getenv("HOSTNETD_BINARY")
	if b == "" {
		t.Fatal("HOSTNETD_BINARY is not set (make test-clients sets it)")
	}
	return b
}

func freePort(t testing.TB, host string) string {
	t.Helper()
	ln, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startDaemon runs hostnetd on a new sandbox and returns once it is ready
// (READY=1 on its notify socket: restore has finished, writes are served).
func startDaemon(t testing.TB, cfg daemonConfig) *daemon {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the client tests need root: each hostnetd makes its own sandbox namespace")
	}
	for _, ns := range []string{cfg.sandbox, cfg.sandbox + "-sw"} {
		if kernel.NamespaceExists(ns) {
			t.Fatalf("namespace %s exists: another run is using it, or one was left behind", ns)
		}
	}
	dir := t.TempDir()
	d := &daemon{name: cfg.sandbox, hostName: cfg.hostName, dir: dir, log: &logbuf.Buffer{}, done: make(chan error, 1)}
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o700); err != nil {
		t.Fatal(err)
	}
	if cfg.hostID != "" {
		if err := os.WriteFile(filepath.Join(dir, "state", "host-id"), []byte(cfg.hostID+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users := filepath.Join(dir, "users")
	if err := os.WriteFile(users, []byte(user+":"+string(hash)+":rw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	notifyPath := filepath.Join(dir, "notify")
	notify, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifyPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { notify.Close() })
	d.addr = freePort(t, cfg.loopback)
	maxWait := cfg.maxWait
	if maxWait == 0 {
		maxWait = 10
	}
	args := []string{
		"--sandbox", "--sandbox-name", cfg.sandbox, "--host-name", cfg.hostName,
		"--state-dir", filepath.Join(dir, "state"), "--run-dir", filepath.Join(dir, "run"),
		"--listen", "unix:" + filepath.Join(dir, "hostnetd.sock"), "--listen", "tcp:" + d.addr,
		"--users-file", users, "--rate-limit", "0", "--log-level", "debug",
		"--connectivity-probe", "tcp:" + probeHost + ":80",
		"--max-connectivity-timeout", fmt.Sprint(maxWait),
	}
	d.cmd = exec.Command(hostnetdBinary(t), args...)
	d.cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+notifyPath)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() { d.stop(t) })
	ready := make(chan error, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			_ = notify.SetReadDeadline(time.Now().Add(60 * time.Second))
			n, err := notify.Read(buf)
			if err != nil {
				ready <- err
				return
			}
			if strings.Contains(string(buf[:n]), "READY=1") {
				ready <- nil
				break
			}
		}
		// Keep reading, as systemd does, so the daemon's notifications
		// never wait for room; Cleanup's Close ends this.
		_ = notify.SetReadDeadline(time.Time{})
		for {
			if _, err := notify.Read(buf); err != nil {
				return
			}
		}
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("hostnetd %s: no READY=1: %v\n%s", cfg.sandbox, err, d.log)
		}
	case err := <-d.done:
		t.Fatalf("hostnetd %s exited before it was ready: %v\n%s", cfg.sandbox, err, d.log)
	}
	if cfg.probe {
		d.answerProbe(t)
	}
	return d
}

// answerProbe gives the sandbox's switch bridge the probe address and
// accepts connections on it, port 80: the "manager" every host must
// still reach after a change.
func (d *daemon) answerProbe(t testing.TB) {
	t.Helper()
	sw, err := kernel.OpenNamespace(d.name + "-sw")
	if err != nil {
		t.Fatal(err)
	}
	defer sw.Close()
	out, err := exec.Command("ip", "-n", d.name+"-sw", "addr", "add", probeNet, "dev", kernel.SwitchBridge).CombinedOutput()
	if err != nil {
		t.Fatalf("ip addr add: %v: %s", err, out)
	}
	var ln net.Listener
	if err := sw.Do(func() (err error) { ln, err = net.Listen("tcp", probeHost+":80"); return err }); err != nil {
		t.Fatal(err)
	}
	d.probe = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
}

// stop sends SIGTERM and waits; the sandbox goes with the daemon.
func (d *daemon) stop(t testing.TB) {
	if d.probe != nil {
		d.probe.Close()
	}
	if d.cmd.ProcessState != nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(60 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
		t.Errorf("hostnetd %s did not stop within 60 s", d.name)
	}
	if t.Failed() {
		t.Logf("hostnetd %s log:\n%s", d.name, tail(d.log.String(), 200))
	}
}

func tail(s string, lines int) string {
	ls := strings.Split(s, "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}

// ip runs ip(8) in the daemon's namespace and returns its output.
func (d *daemon) ip(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"-n", d.name}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// clientEnv is the environment of the clients: the file
// install-clients.sh wrote, read into KEY=VALUE pairs.
var clientEnv = sync.OnceValues(func() ([]string, error) {
	path := os.Getenv("HOSTNETD_CLIENTS_ENV")
	if path == "" {
		return nil, fmt.Errorf("HOSTNETD_CLIENTS_ENV is not set (make test-clients sets it)")
	}
	out, err := exec.Command("bash", "-c", `set -a; . "$0"; env -0`, path).Output()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %v", path, err)
	}
	var env []string
	for _, kv := range strings.Split(string(out), "\x00") {
		if kv != "" {
			env = append(env, kv)
		}
	}
	return env, nil
})

// runClient runs a client command with the clients' environment, streams
// its output into the test log line by line, and returns it whole.
func runClient(t testing.TB, timeout time.Duration, extraEnv []string, name string, args ...string) (string, error) {
	t.Helper()
	env, err := clientEnv()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(env, extraEnv...)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		pw.Close()
		pr.Close()
		t.Fatal(err)
	}
	pw.Close()
	var all strings.Builder
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		all.WriteString(sc.Text() + "\n")
	}
	pr.Close()
	err = cmd.Wait()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s: killed after %s: %w", name, timeout, err)
	}
	return all.String(), err
}

// get reads path (below /ovirt-engine/api, or /metrics) over the daemon's
// Unix socket, which needs no token.
func (d *daemon) get(t testing.TB, path string) string {
	t.Helper()
	c := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "unix", filepath.Join(d.dir, "hostnetd.sock"))
	}}}
	resp, err := c.Get("http://hostnetd" + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v\n%s", path, resp.StatusCode, err, b)
	}
	return string(b)
}

var applyWritesRe = regexp.MustCompile(`(?m)^hostnetd_netlink_writes_total\{phase="apply"\} (\d+)`)

// kernelWrites is the daemon's count of kernel writes made by transactions.
func (d *daemon) kernelWrites(t testing.TB) int {
	t.Helper()
	m := applyWritesRe.FindStringSubmatch(d.get(t, "/metrics"))
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
