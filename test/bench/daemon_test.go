//go:build bench

package bench

import (
	"bytes"
	"context"
	"encoding/json"
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

	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/logbuf"
)

// daemon is a hostnetd process (the real binary, as make builds it)
// managing one namespace, serving a Unix socket in its directory.
type daemon struct {
	t      *testing.T
	cmd    *exec.Cmd
	wait   <-chan struct{} // closed when the process has exited
	dir    string
	socket string
	client *http.Client
	log    *logbuf.Buffer
	hostID string
	// started is when the process was started; ready when it told the
	// service manager READY=1, which it does once restore at boot has
	// finished.
	started, ready time.Time
}

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// hostnetdBinary is a copy of $HOSTNETD_BINARY (a build inside the
// emulated VM would take minutes, so make bench builds it on the host) in
// the guest's tmpfs. Run from the host's share, every page of the program
// would be read over 9p the first time it runs, which no installed daemon
// pays, and which would weigh on restore at boot, the first work of a
// fresh process.
func hostnetdBinary(t *testing.T) string {
	t.Helper()
	src := os.Getenv("HOSTNETD_BINARY")
	if src == "" {
		t.Fatal("HOSTNETD_BINARY is not set: run the benchmark with make bench")
	}
	binaryOnce.Do(func() {
		var data []byte
		if data, binaryErr = os.ReadFile(src); binaryErr != nil {
			return
		}
		var dir string
		if dir, binaryErr = os.MkdirTemp("", "hostnetd-bin"); binaryErr != nil {
			return
		}
		binaryPath = filepath.Join(dir, "hostnetd")
		binaryErr = os.WriteFile(binaryPath, data, 0o755)
	})
	if binaryErr != nil {
		t.Fatalf("copying the hostnetd binary: %v", binaryErr)
	}
	return binaryPath
}

// startDaemon starts hostnetd on ns with its state under dir/state (which
// the caller may have filled) and a fresh run directory, and waits until it
// is ready: it sends READY=1 to the NOTIFY_SOCKET the test gives it, as to
// systemd, when restore at boot has finished. Nothing polls it meanwhile,
// which would take CPU from the restore it measures.
func startDaemon(t *testing.T, ns *kernel.Namespace, dir, profile string) *daemon {
	t.Helper()
	d := &daemon{t: t, dir: dir, socket: filepath.Join(dir, "hostnetd.sock"), log: &logbuf.Buffer{}}
	args := []string{"--netns", ns.Name, "--state-dir", filepath.Join(dir, "state"), "--run-dir", filepath.Join(dir, "run"),
		"--listen", "unix:" + d.socket, "--resolv-conf", "none", "--write-wait", "30m",
		// S(4000)'s setupnetworks is 1.2 MB, above the default limit of
		// 1 MiB: a manager sending thousands of attachments at once
		// raises it the same way.
		"--max-body-bytes", "16777216"}
	if profile != "" {
		args = append(args, "--cpu-profile", profile)
	}
	d.cmd = exec.Command(hostnetdBinary(t), args...)
	d.cmd.Stdout, d.cmd.Stderr = io.Discard, d.log
	ready := listenNotify(t, filepath.Join(dir, "notify.sock"))
	// The collector's trace goes to the log beside the daemon's own
	// lines, to match a slow request to the collections around it.
	d.cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+filepath.Join(dir, "notify.sock"), "GODEBUG=gctrace=1")
	d.client = &http.Client{Timeout: 30 * time.Minute, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "unix", d.socket)
	}}}
	d.started = time.Now()
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.kill)
	exited := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(exited) }()
	d.wait = exited
	select {
	case d.ready = <-ready:
	case <-exited:
		t.Fatalf("hostnetd exited before it was ready:\n%s", d.log)
	case <-time.After(30 * time.Minute):
		t.Fatalf("hostnetd was not ready after 30 minutes:\n%s", d.log)
	}
	a := d.must("GET", "/hosts", "")
	if !strings.Contains(string(a.body), "<status>up</status>") {
		t.Fatalf("hostnetd said READY=1 but the host is not up:\n%s", a.body)
	}
	m := regexp.MustCompile(`<host [^>]*id="([^"]+)"`).FindSubmatch(a.body)
	if m == nil {
		t.Fatalf("GET /hosts named no host id:\n%s", a.body)
	}
	d.hostID = string(m[1])
	return d
}

// listenNotify receives sd_notify datagrams at path, as systemd does, and
// returns when the first READY=1 came.
func listenNotify(t *testing.T, path string) <-chan time.Time {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ready := make(chan time.Time, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			for _, line := range strings.Split(string(buf[:n]), "\n") {
				if line == "READY=1" {
					select {
					case ready <- time.Now():
					default:
					}
				}
			}
		}
	}()
	return ready
}

// stop ends the daemon with SIGTERM, as systemd does, so that a CPU
// profile is written out.
func (d *daemon) stop() {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.wait:
	case <-time.After(2 * time.Minute):
		d.kill()
		d.t.Errorf("hostnetd did not stop on SIGTERM:\n%s", d.log)
	}
}

func (d *daemon) kill() {
	_ = d.cmd.Process.Kill()
	if d.wait != nil {
		<-d.wait
	}
}

// answer is an HTTP response, read whole, and how long it took from
// sending the request to the last byte of the body.
type answer struct {
	status  int
	header  http.Header
	body    []byte
	elapsed time.Duration
}

func (d *daemon) do(method, path, body string) answer {
	d.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://hostnetd/ovirt-engine/api"+path, rd)
	if err != nil {
		d.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/xml")
	}
	start := time.Now()
	resp, err := d.client.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v\n%s", method, path, err, d.log)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	elapsed := time.Since(start)
	if err != nil {
		d.t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: data, elapsed: elapsed}
}

// read times a GET whose answer is read into buf, and returns its size.
func (d *daemon) read(path string, buf *bytes.Buffer) (time.Duration, int) {
	d.t.Helper()
	buf.Reset()
	start := time.Now()
	resp, err := d.client.Get("http://hostnetd/ovirt-engine/api" + path)
	if err != nil {
		d.t.Fatalf("GET %s: %v\n%s", path, err, d.log)
	}
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	elapsed := time.Since(start)
	if err != nil || resp.StatusCode != http.StatusOK {
		d.t.Fatalf("GET %s: status %d, %v\n%.2000s", path, resp.StatusCode, err, buf.Bytes())
	}
	return elapsed, buf.Len()
}

// must sends a request and fails the test unless it succeeded.
func (d *daemon) must(method, path, body string) answer {
	d.t.Helper()
	a := d.do(method, path, body)
	if a.status/100 != 2 {
		d.t.Fatalf("%s %s: status %d\n%.2000s", method, path, a.status, a.body)
	}
	return a
}

func (d *daemon) host(suffix string) string { return "/hosts/" + d.hostID + suffix }

// writes is the X-Hostnetd-Kernel-Writes header of a write.
func (a answer) writes(t *testing.T) int {
	t.Helper()
	n, err := strconv.Atoi(a.header.Get("X-Hostnetd-Kernel-Writes"))
	if err != nil {
		t.Fatalf("X-Hostnetd-Kernel-Writes = %q", a.header.Get("X-Hostnetd-Kernel-Writes"))
	}
	return n
}

// rss returns the daemon's resident and peak resident memory in bytes,
// from /proc/PID/status.
func (d *daemon) rss() (rss, hwm int64) {
	d.t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		d.t.Fatal(err)
	}
	field := func(name string) int64 {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, name+":"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				return kb * 1024
			}
		}
		d.t.Fatalf("no %s in /proc/PID/status", name)
		return 0
	}
	return field("VmRSS"), field("VmHWM")
}

// restoreDuration is the duration restore at boot logged for itself.
func (d *daemon) restoreDuration() time.Duration {
	m := regexp.MustCompile(`persistent configuration restored\s+\{"duration": ([0-9.e+-]+)`).FindStringSubmatch(d.log.String())
	if m == nil {
		return 0
	}
	secs, _ := strconv.ParseFloat(m[1], 64)
	return time.Duration(secs * float64(time.Second))
}

// transactionLine marks the daemon's log line of a transaction it applied.
const transactionLine = "\ttransaction applied\t"

// transactions counts the transactions the daemon has logged so far.
func (d *daemon) transactions() int { return strings.Count(d.log.String(), transactionLine) }

// transaction returns the fields of the daemon's log line of the
// transaction after the first seen ones: its duration and those of its
// phases (plan, write, verify), in seconds. The line may come after the
// answer, from the process's output, so it is waited for.
func (d *daemon) transaction(seen int) map[string]float64 {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log, err := d.log.Wait(ctx, func(log string) bool { return strings.Count(log, transactionLine) > seen })
	if err != nil {
		d.t.Fatalf("no transaction line after the first %d in the log: %v\n%s", seen, err, log)
	}
	var line string
	for l := range strings.SplitSeq(log, "\n") {
		if strings.Contains(l, transactionLine) {
			if seen == 0 {
				line = l
				break
			}
			seen--
		}
	}
	i := strings.Index(line, "{")
	if i < 0 {
		d.t.Fatalf("a transaction line without fields: %q", line)
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(line[i:]), &fields); err != nil {
		d.t.Fatalf("parsing %q: %v", line, err)
	}
	out := map[string]float64{}
	for _, k := range []string{"duration", "plan", "write", "verify"} {
		if v, ok := fields[k].(float64); ok {
			out[k] = v
		}
	}
	return out
}
