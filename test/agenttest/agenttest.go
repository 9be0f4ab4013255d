// Package agenttest runs a real hostnetd agent in-process for tests: bound
// to a test namespace, serving on a Unix socket in the test's temporary
// directory, and stopped by t.Cleanup.
package agenttest

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// Agent is a running agent and an HTTP client for it.
type Agent struct {
	*agent.Agent
	StateDir string
	RunDir   string
	Socket   string
	client   *http.Client
	stop     func()
}

// Start runs an agent that manages ns until the test ends.
func Start(t testing.TB, ns *kernel.Namespace) *Agent {
	t.Helper()
	return StartWith(t, ns, t.TempDir(), nil)
}

// StartWith runs an agent with its state under dir (so a test can restart
// it on the same state) and lets the test adjust its options.
func StartWith(t testing.TB, ns *kernel.Namespace, dir string, adjust func(*agent.Options)) *Agent {
	t.Helper()
	return StartServing(t, ns, dir, adjust)
}

// StartServing is StartWith with more listeners (a TCP one, say) beside
// the Unix socket the helpers use.
func StartServing(t testing.TB, ns *kernel.Namespace, dir string, adjust func(*agent.Options), extra ...net.Listener) *Agent {
	t.Helper()
	a := &Agent{
		StateDir: filepath.Join(dir, "state"),
		RunDir:   filepath.Join(dir, "run"),
		Socket:   filepath.Join(dir, "hostnetd.sock"),
	}
	opts := agent.Options{Namespace: ns, StateDir: a.StateDir, RunDir: a.RunDir}
	if adjust != nil {
		adjust(&opts)
	}
	ag, err := agent.New(testLogger(t), opts)
	if err != nil {
		t.Fatalf("agent.New: %v", err)
	}
	a.Agent = ag
	ln, err := agent.Listen("unix:" + a.Socket)
	if err != nil {
		t.Fatalf("agent.Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ag.Run(ctx, append([]net.Listener{ln}, extra...)...) }()
	var once sync.Once
	a.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("agent.Run: %v", err)
			}
			ag.Close()
		})
	}
	t.Cleanup(a.stop)
	select {
	case <-ag.Restored():
	case <-time.After(2 * time.Minute):
		t.Fatal("the agent did not finish restoring within 2 minutes")
	}
	a.client = &http.Client{
		Timeout: 2 * time.Minute,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", a.Socket)
		}},
	}
	return a
}

// testLogger logs every request into a test's output, shown when it
// fails. A benchmark's agent logs as the daemon does by default (info,
// encoded and written), but to nowhere: a benchmark's output is shown.
func testLogger(t testing.TB) *zap.Logger {
	if _, ok := t.(*testing.B); ok {
		enc := zapcore.NewConsoleEncoder(zap.NewProductionEncoderConfig())
		return zap.New(zapcore.NewCore(enc, zapcore.AddSync(io.Discard), zapcore.InfoLevel))
	}
	return zaptest.NewLogger(t)
}

// Stop stops the agent now, as a daemon that exits; the namespace and the
// state directory stay.
func (a *Agent) Stop() { a.stop() }

// Response is an HTTP answer, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends a request to path (below http://hostnetd) with optional headers
// given as "Name: value" strings.
func (a *Agent) Do(t testing.TB, method, path string, body []byte, headers ...string) Response {
	t.Helper()
	req, err := http.NewRequest(method, "http://hostnetd"+path, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("building %s %s: %v", method, path, err)
	}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	resp, err := a.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer to %s %s: %v", method, path, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// Get sends a GET with optional headers.
func (a *Agent) Get(t testing.TB, path string, headers ...string) Response {
	t.Helper()
	return a.Do(t, http.MethodGet, path, nil, headers...)
}

// HostPath is the API path of this agent's host.
func (a *Agent) HostPath() string { return "/ovirt-engine/api/hosts/" + a.HostID() }
