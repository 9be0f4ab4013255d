package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// TestIdleConnectionsCannotLockOutAValidClient fills every connection slot
// of a TCP listener (--max-connections, 64) with connections that hold it
// without using it: unauthenticated clients that got their 401 and stay,
// clients with a valid token idling between requests, and clients that
// connected and said nothing. A client with a valid rw token must still
// be served at once, each time.
func TestIdleConnectionsCannotLockOutAValidClient(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	dir := t.TempDir()
	tokens := secretFile(t, dir, "tokens", monitorToken+" ro prometheus\nengine-token-0123456789 rw engine\n")
	ln, err := agent.ListenWith("tcp:127.0.0.1:0", agent.ListenOptions{Credentials: true})
	if err != nil {
		t.Fatal(err)
	}
	agenttest.StartServing(t, host, dir, func(o *agent.Options) {
		// The rate limit is not what is tested: one request a connection.
		o.Access = agent.AccessOptions{TokensFile: tokens, RateLimit: -1}
	}, ln)
	addr := ln.Addr().String()
	engine := &http.Client{Timeout: 5 * time.Second}
	valid := func(round string) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+addr+"/ovirt-engine/api/hosts", nil)
		req.Header.Set("Authorization", "Bearer engine-token-0123456789")
		start := time.Now()
		resp, err := engine.Do(req)
		if err != nil {
			t.Fatalf("%s: the engine's request: %v", round, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: the engine's request: %d", round, resp.StatusCode)
		}
		t.Logf("%s: the engine was served in %v", round, time.Since(start).Round(time.Millisecond))
		engine.CloseIdleConnections()
	}
	// hold opens 64 connections, each sending request (if any) and reading
	// the answer's status line, then keeping the connection open.
	hold := func(request string) (statuses []string) {
		for range agent.DefaultMaxConnections {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			if request == "" {
				continue
			}
			if _, err := c.Write([]byte(request)); err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil {
				t.Fatalf("reading an answer: %v", err)
			}
			statuses = append(statuses, strings.TrimSpace(line))
		}
		return statuses
	}
	st := hold("GET /ovirt-engine/api/hosts HTTP/1.1\r\nHost: hostnetd\r\n\r\n")
	if st[0] != "HTTP/1.1 401 Unauthorized" {
		t.Fatalf("an unauthenticated request: %q", st[0])
	}
	valid("64 unauthenticated connections that got 401")
	st = hold("GET /ovirt-engine/api/hosts HTTP/1.1\r\nHost: hostnetd\r\nAuthorization: Bearer " + monitorToken + "\r\n\r\n")
	if st[len(st)-1] != "HTTP/1.1 200 OK" {
		t.Fatalf("a read-only request: %q", st[len(st)-1])
	}
	valid("64 kept-alive idle connections")
	hold("")
	time.Sleep(1500 * time.Millisecond) // longer than a real client takes to speak
	valid("64 silent connections")
}

// TestSSOPasswordInTheURLIsRefused: a login with the password in the query
// string is refused (400 invalid_request) even when the password is right,
// and issues no token; the same login in the body succeeds.
func TestSSOPasswordInTheURLIsRefused(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	dir := t.TempDir()
	hash, _ := bcrypt.GenerateFromPassword([]byte("engine-secret"), bcrypt.MinCost)
	users := secretFile(t, dir, "users", "admin@internal:"+string(hash)+":rw\n")
	ln, err := agent.ListenWith("tcp:127.0.0.1:0", agent.ListenOptions{Credentials: true})
	if err != nil {
		t.Fatal(err)
	}
	agenttest.StartServing(t, host, dir, func(o *agent.Options) { o.Access = agent.AccessOptions{UsersFile: users} }, ln)
	base := "http://" + ln.Addr().String() + "/ovirt-engine/sso/oauth/token"
	form := "grant_type=password&scope=ovirt-app-api&username=admin%40internal&password=engine-secret"
	post := func(url, body string) (int, string) {
		resp, err := http.Post(url, "application/x-www-form-urlencoded", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}
	if status, body := post(base+"?"+form, ""); status != http.StatusBadRequest || !strings.Contains(body, "invalid_request") || strings.Contains(body, "access_token") {
		t.Errorf("the password in the URL: %d %s", status, body)
	}
	if status, body := post(base+"?password=engine-secret", "grant_type=password&scope=ovirt-app-api&username=admin%40internal"); status != http.StatusBadRequest || strings.Contains(body, "access_token") {
		t.Errorf("the password alone in the URL: %d %s", status, body)
	}
	if status, body := post(base, form); status != http.StatusOK || !strings.Contains(body, "access_token") {
		t.Errorf("the password in the body: %d %s", status, body)
	}
}

// TestFailedAuthenticationIsBoundedPerNetwork: 16 loopback addresses
// sending bad tokens, and bad passwords, share one budget of failures:
// after it, they get 429 (no password check), while a client with a valid
// token is served throughout.
func TestFailedAuthenticationIsBoundedPerNetwork(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	dir := t.TempDir()
	hash, _ := bcrypt.GenerateFromPassword([]byte("engine-secret"), bcrypt.MinCost)
	users := secretFile(t, dir, "users", "admin@internal:"+string(hash)+":rw\n")
	tokens := secretFile(t, dir, "tokens", "engine-token-0123456789 rw engine\n")
	ln, err := agent.ListenWith("tcp:127.0.0.1:0", agent.ListenOptions{Credentials: true})
	if err != nil {
		t.Fatal(err)
	}
	agenttest.StartServing(t, host, dir, func(o *agent.Options) { o.Access = agent.AccessOptions{UsersFile: users, TokensFile: tokens} }, ln)
	addr := ln.Addr().String()
	from := func(i int) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))}}
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
	}
	statuses := map[int]int{}
	began := time.Now()
	for round := range 15 {
		for i := range 16 {
			req, _ := http.NewRequest("GET", "http://"+addr+"/ovirt-engine/api/hosts", nil)
			req.Header.Set("Authorization", fmt.Sprintf("Bearer guess-%d-%d-0123456789", round, i))
			resp, err := from(i).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			statuses[resp.StatusCode]++
		}
	}
	// A budget of 10, refilled one every 2 s while the requests go.
	if budget := 10 + 1 + int(time.Since(began)/(2*time.Second)); statuses[http.StatusUnauthorized] > budget ||
		statuses[http.StatusUnauthorized]+statuses[http.StatusTooManyRequests] != 240 {
		t.Errorf("240 bad tokens from 16 loopback addresses in %v: %v; want at most %d checked (401), the rest 429", time.Since(began), statuses, budget)
	}
	// Bad passwords from the same network: refused before bcrypt.
	// The budget refills one failure every 2 s, so a slow machine may
	// see a password checked now and then: at most one per 2 s elapsed.
	start := time.Now()
	login := "grant_type=password&scope=ovirt-app-api&username=admin%40internal&password=wrong"
	checked := 0
	for i := range 20 {
		resp, err := from(i%16).Post("http://"+addr+"/ovirt-engine/sso/oauth/token", "application/x-www-form-urlencoded", strings.NewReader(login))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests {
			checked++
		}
	}
	elapsed := time.Since(start)
	if refilled := 1 + int(elapsed/(2*time.Second)); checked > refilled {
		t.Errorf("%d of 20 bad passwords after the budget were checked in %v; want at most %d (one per 2 s refilled), the rest 429", checked, elapsed, refilled)
	}
	t.Logf("20 logins after the budget in %v: %d checked", elapsed, checked)
	// A client with a valid token is not held back by the others' failures.
	req, _ := http.NewRequest("GET", "http://"+addr+"/ovirt-engine/api/hosts", nil)
	req.Header.Set("Authorization", "Bearer engine-token-0123456789")
	resp, err := from(0).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the engine's valid token after the attack: %d", resp.StatusCode)
	}
}
