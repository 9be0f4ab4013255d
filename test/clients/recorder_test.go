//go:build clients

package clients

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
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
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(respBody)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return r
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
