//go:build clients

package clients

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hostnetd/hostnetd/test/contract"
)

// recorder is an HTTP proxy between a client and a daemon's TCP listener:
// it forwards every request, keeps every exchange (for the contract
// fixtures) and counts the kernel writes hostnetd reports.
type recorder struct {
	d      *daemon
	ln     net.Listener
	mu     sync.Mutex
	step   string
	xs     []contract.Exchange
	writes int
}

func startRecorder(t testing.TB, d *daemon) *recorder {
	t.Helper()
	host, _, _ := net.SplitHostPort(d.addr)
	ln, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{d: d, ln: ln}
	client := &http.Client{Transport: &http.Transport{}}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if req.URL.Path == ipPath {
			r.serveIP(w, req, body)
			return
		}
		out, err := http.NewRequest(req.Method, "http://"+d.addr+req.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out.Header = req.Header.Clone()
		resp, err := client.Do(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		respBody, _ := io.ReadAll(resp.Body)
		if !strings.HasPrefix(req.URL.Path, "/ovirt-engine/") {
			// /metrics, read by the tests themselves: not the clients' contract.
			copyResponse(w, resp, respBody)
			return
		}
		r.mu.Lock()
		step := r.step
		if s := req.Header.Get("X-Client-Step"); s != "" {
			step = s
		}
		r.xs = append(r.xs, contract.Record(step, req, body, resp.StatusCode, resp.Header, respBody))
		if n, err := strconv.Atoi(resp.Header.Get("X-Hostnetd-Kernel-Writes")); err == nil {
			r.writes += n
		}
		r.mu.Unlock()
		copyResponse(w, resp, respBody)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return r
}

func copyResponse(w http.ResponseWriter, resp *http.Response, body []byte) {
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}

// ipPath is where a client suite asks the recorder to change the
// daemon's kernel behind hostnetd's back (a drift): POST a JSON array of
// ip(8) arguments. The change is recorded as an exchange of method
// contract.KernelMethod, which the replay repeats in its own namespace.
const ipPath = "/_hostnetd_test/ip"

func (r *recorder) serveIP(w http.ResponseWriter, req *http.Request, body []byte) {
	var args []string
	if err := json.Unmarshal(body, &args); err != nil || len(args) == 0 {
		http.Error(w, "want a JSON array of ip(8) arguments", http.StatusBadRequest)
		return
	}
	step := req.Header.Get("X-Client-Step")
	if out, err := r.ip(step, args...); err != nil {
		http.Error(w, fmt.Sprintf("ip %s: %v: %s", strings.Join(args, " "), err, out), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ip runs ip(8) in the daemon's namespace and records it.
func (r *recorder) ip(step string, args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"-n", r.d.name}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if step == "" {
		step = r.step
	}
	r.xs = append(r.xs, contract.Exchange{Step: step, Method: contract.KernelMethod, Path: strings.Join(args, " ")})
	return string(out), nil
}

// URL is the API URL through the recorder.
func (r *recorder) URL() string { return "http://" + r.ln.Addr().String() + "/ovirt-engine/api" }

// Step names the exchanges that follow, and returns the kernel writes
// reported since the last call.
func (r *recorder) Step(name string) (writes int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.step, writes, r.writes = name, r.writes, 0
	return writes
}

// Exchanges is how many were recorded so far.
func (r *recorder) Exchanges() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.xs)
}

// save writes the exchanges as contract fixture NAME.json into
// $HOSTNETD_CONTRACT_RECORD, when that is set (make contract-record).
func (r *recorder) save(t testing.TB, name, client string) {
	t.Helper()
	dir := os.Getenv("HOSTNETD_CONTRACT_RECORD")
	if dir == "" || t.Failed() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	f := &contract.Fixture{Client: client, HostID: r.d.HostID(t), HostName: r.d.hostName, User: user, Exchanges: r.xs}
	path := filepath.Join(dir, name+".json")
	if err := f.Save(path); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %d exchanges into %s", len(r.xs), path)
}
