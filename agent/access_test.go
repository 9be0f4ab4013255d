package agent

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"golang.org/x/crypto/bcrypt"

	"github.com/hostnetd/hostnetd/test/nstest"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	testRWToken = "rw-token-0123456789abcdef"
	testROToken = "ro-token-0123456789abcdef"
)

func writeSecret(t *testing.T, name, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return path
}

func TestLoadTokens(t *testing.T) {
	good := "# monitoring and the engine\n" + testROToken + " ro prometheus\n\n" + testRWToken + " rw\n"
	tokens, err := loadTokens(writeSecret(t, "tokens", good, 0o600))
	if err != nil {
		t.Fatal(err)
	}
	if p := tokens[keyOf(testROToken)]; p.scope != scopeRO || p.name != "prometheus" {
		t.Errorf("ro token: %+v", p)
	}
	if p := tokens[keyOf(testRWToken)]; p.scope != scopeRW || p.name != "token-line-4" {
		t.Errorf("rw token: %+v", p)
	}
	for _, tt := range []struct {
		name, content string
		mode          os.FileMode
		want          string
	}{
		{"group-readable", good, 0o640, "mode 0640"},
		{"world-readable", good, 0o604, "mode 0604"},
		{"short token", "short ro\n", 0o600, "at least 16"},
		{"bad scope", testRWToken + " admin\n", 0o600, `scope "admin"`},
		{"no scope", testRWToken + "\n", 0o600, "TOKEN SCOPE"},
		{"duplicate", testRWToken + " rw\n" + testRWToken + " ro\n", 0o600, ":2: the token is already listed"},
	} {
		_, err := loadTokens(writeSecret(t, "tokens", tt.content, tt.mode))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v; want it to mention %q", tt.name, err, tt.want)
		}
	}
}

func testUsersFile(t *testing.T) string {
	t.Helper()
	rw, _ := bcrypt.GenerateFromPassword([]byte("engine-secret"), bcrypt.MinCost)
	ro, _ := bcrypt.GenerateFromPassword([]byte("monitor-secret"), bcrypt.MinCost)
	return writeSecret(t, "users", "admin@internal:"+string(rw)+":rw\nmonitor:"+string(ro)+":ro\n", 0o600)
}

func TestLoadUsers(t *testing.T) {
	users, err := loadUsers(testUsersFile(t))
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := checkPassword(users, "admin@internal", "engine-secret"); !ok || s != scopeRW {
		t.Errorf("admin login: %q %v", s, ok)
	}
	if _, ok := checkPassword(users, "admin@internal", "wrong"); ok {
		t.Error("a wrong password was accepted")
	}
	if _, ok := checkPassword(users, "nobody", "engine-secret"); ok {
		t.Error("an unknown user was accepted")
	}
	for _, tt := range []struct{ name, content, want string }{
		{"plain password", "admin:secret:rw\n", "not bcrypt"},
		{"two fields", "admin:secret\n", "USER:BCRYPT-HASH:SCOPE"},
	} {
		if _, err := loadUsers(writeSecret(t, "users", tt.content, 0o600)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v; want it to mention %q", tt.name, err, tt.want)
		}
	}
	if _, err := loadUsers(writeSecret(t, "users", "", 0o644)); err == nil || !strings.Contains(err.Error(), "mode 0644") {
		t.Errorf("a world-readable users file: error %v", err)
	}
}

func TestCheckListen(t *testing.T) {
	creds := ListenOptions{Credentials: true}
	withTLS := ListenOptions{Credentials: true, TLS: &tls.Config{}}
	for _, tt := range []struct {
		spec string
		o    ListenOptions
		want string // "" for accepted
	}{
		{"unix:/run/hostnetd/hostnetd.sock", ListenOptions{}, ""},
		{"tcp:127.0.0.1:0", ListenOptions{}, "needs --tokens-file or --users-file"},
		{"tcp:127.0.0.1:0", creds, ""},
		{"tcp:[::1]:0", creds, ""},
		{"tcp:localhost:0", creds, ""}, // a name: checked once bound
		{"tcp:0.0.0.0:0", creds, "requires TLS"},
		{"tcp::8443", creds, "requires TLS"},
		{"tcp:192.0.2.1:443", creds, "requires TLS"},
		{"tcp:0.0.0.0:0", withTLS, ""},
		{"tcp:nonsense", creds, "missing port"},
	} {
		err := CheckListen(tt.spec, tt.o)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("CheckListen(%q): %v; want accepted", tt.spec, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("CheckListen(%q): %v; want an error about %q", tt.spec, err, tt.want)
		}
	}
}

func TestRateLimiterRefillsAndSaysWhen(t *testing.T) {
	l := newRateLimiter(2, 3) // 2/s, bursts of 3
	now := time.Unix(1000, 0)
	for i := range 3 {
		if _, ok := l.allow("192.0.2.1", now); !ok {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	wait, ok := l.allow("192.0.2.1", now)
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("4th request: allowed %v, wait %v; want refused, 500ms", ok, wait)
	}
	if _, ok := l.allow("192.0.2.2", now); !ok {
		t.Error("another client shares the first one's budget")
	}
	if _, ok := l.allow("192.0.2.1", now.Add(500*time.Millisecond)); !ok {
		t.Error("refused after the wait it announced")
	}
	if newRateLimiter(0, 10) != nil {
		t.Error("rate 0 must mean no limiter")
	}
}

func TestSessionsExpireAndRevoke(t *testing.T) {
	var s sessions
	now := time.Now()
	tok, exp := s.issue(principal{name: "u", scope: scopeRO}, time.Minute, now)
	if !exp.Equal(now.Add(time.Minute)) {
		t.Errorf("expiry %v", exp)
	}
	if p, ok := s.lookup(tok, now.Add(59*time.Second)); !ok || p.name != "u" {
		t.Errorf("lookup before expiry: %+v %v", p, ok)
	}
	if _, ok := s.lookup(tok, now.Add(time.Minute)); ok {
		t.Error("an expired token is still valid")
	}
	tok, _ = s.issue(principal{name: "u", scope: scopeRO}, time.Minute, now)
	if !s.revoke(tok) {
		t.Error("revoke found no session")
	}
	if _, ok := s.lookup(tok, now); ok {
		t.Error("a revoked token is still valid")
	}
	for range maxSessions + 10 {
		s.issue(principal{name: "u"}, time.Minute, now)
	}
	if len(s.byKey) > maxSessions {
		t.Errorf("%d sessions kept; the bound is %d", len(s.byKey), maxSessions)
	}
}

// guarded serves the access control in front of a fake API (access
// control is pure logic: the API behind it does not matter) on a loopback
// TCP listener, and on a Unix socket.
type guarded struct {
	tcp, unix *http.Client
	tcpURL    string
	agent     *Agent
}

func newGuarded(t *testing.T, o AccessOptions) *guarded {
	t.Helper()
	log := zaptest.NewLogger(t)
	acc, err := newAccess(log, o)
	if err != nil {
		t.Fatal(err)
	}
	a := &Agent{log: log, access: acc, opts: Options{Version: "test"}}
	a.metrics = newMetrics(log, prometheus.NewRegistry())
	// The real metrics read the kernel; their content is tested with a
	// real agent (test/integration).
	a.metrics.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "# metrics\n") })
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		_, _ = io.WriteString(w, "<api/>")
	})
	srv := httptest.NewServer(a.guard(api))
	t.Cleanup(srv.Close)
	sock := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	usrv := &http.Server{Handler: a.guard(api)}
	go func() { _ = usrv.Serve(ln) }()
	t.Cleanup(func() { usrv.Close() })
	return &guarded{tcp: srv.Client(), tcpURL: srv.URL, agent: a, unix: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}}}}
}

func (g *guarded) do(t *testing.T, c *http.Client, base, method, path, token string, form url.Values) *http.Response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func faultCode(t *testing.T, resp *http.Response) string {
	t.Helper()
	data, _ := io.ReadAll(resp.Body)
	_, rest, _ := strings.Cut(string(data), "<code>")
	code, _, _ := strings.Cut(rest, "</code>")
	return code
}

func TestAccessRulesOnTCP(t *testing.T) {
	tokens := writeSecret(t, "tokens", testROToken+" ro monitor\n"+testRWToken+" rw engine\n", 0o600)
	g := newGuarded(t, AccessOptions{TokensFile: tokens, RateLimit: -1})
	api := "/ovirt-engine/api/hosts"
	for _, tt := range []struct {
		name, method, path, token string
		status                    int
		code, challenge           string
	}{
		{"no token", http.MethodGet, api, "", 401, CodeUnauthorized, `Bearer realm="hostnetd"`},
		{"bad token", http.MethodGet, api, "not-a-token-of-the-file", 401, CodeUnauthorized, `Bearer realm="hostnetd", error="invalid_token"`},
		{"read-only reads", http.MethodGet, api, testROToken, 200, "", ""},
		{"read-only writes", http.MethodPost, api + "/h/setupnetworks", testROToken, 403, CodeForbidden, ""},
		{"read-only deletes", http.MethodDelete, api + "/h/nics/bond0", testROToken, 403, CodeForbidden, ""},
		{"read-write writes", http.MethodPost, api + "/h/setupnetworks", testRWToken, 200, "", ""},
		{"metrics need a token", http.MethodGet, "/metrics", "", 401, CodeUnauthorized, `Bearer realm="hostnetd"`},
		{"metrics with a read-only token", http.MethodGet, "/metrics", testROToken, 200, "", ""},
	} {
		resp := g.do(t, g.tcp, g.tcpURL, tt.method, tt.path, tt.token, nil)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d; want %d", tt.name, resp.StatusCode, tt.status)
		}
		if tt.code != "" {
			if got := faultCode(t, resp); got != tt.code {
				t.Errorf("%s: fault code %q; want %q", tt.name, got, tt.code)
			}
		}
		if got := resp.Header.Get("WWW-Authenticate"); got != tt.challenge {
			t.Errorf("%s: WWW-Authenticate %q; want %q", tt.name, got, tt.challenge)
		}
	}
	// The Unix socket is not token-checked: its permissions are the control.
	if resp := g.do(t, g.unix, "http://hostnetd", http.MethodPost, api+"/h/setupnetworks", "", nil); resp.StatusCode != 200 {
		t.Errorf("a write on the Unix socket without a token: %d; want 200", resp.StatusCode)
	}
}

func TestTooManyRequestsFromOneClient(t *testing.T) {
	tokens := writeSecret(t, "tokens", testROToken+" ro\n", 0o600)
	g := newGuarded(t, AccessOptions{TokensFile: tokens, RateLimit: 1, RateBurst: 3})
	for i := range 3 {
		if resp := g.do(t, g.tcp, g.tcpURL, http.MethodGet, "/ovirt-engine/api", testROToken, nil); resp.StatusCode != 200 {
			t.Fatalf("request %d of the burst: %d", i, resp.StatusCode)
		}
	}
	// Bad credentials spend the budget too: guessing is rate limited.
	resp := g.do(t, g.tcp, g.tcpURL, http.MethodGet, "/ovirt-engine/api", "", nil)
	if resp.StatusCode != http.StatusTooManyRequests || faultCode(t, resp) != CodeTooManyRequests {
		t.Fatalf("4th request: %d; want 429 %s", resp.StatusCode, CodeTooManyRequests)
	}
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After %q; want a whole number of seconds >= 1", resp.Header.Get("Retry-After"))
	}
	for range 5 { // the Unix socket has no budget
		if resp := g.do(t, g.unix, "http://hostnetd", http.MethodGet, "/ovirt-engine/api", "", nil); resp.StatusCode != 200 {
			t.Fatalf("the Unix socket was limited: %d", resp.StatusCode)
		}
	}
}

func TestSSOLoginBearerAndLogout(t *testing.T) {
	g := newGuarded(t, AccessOptions{UsersFile: testUsersFile(t), RateLimit: -1})
	login := func(user, password string) (*http.Response, map[string]any) {
		resp := g.do(t, g.tcp, g.tcpURL, http.MethodPost, ssoTokenPath, "", url.Values{
			"grant_type": {"password"}, "scope": {"ovirt-app-api"}, "username": {user}, "password": {password}})
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("the token endpoint's answer is not JSON: %v", err)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q; the SDKs want application/json", ct)
		}
		return resp, body
	}
	resp, body := login("admin@internal", "wrong")
	if resp.StatusCode != 401 || body["error_code"] != "access_denied" || body["error"] == nil {
		t.Errorf("a wrong password: %d %v; want 401 with the engine's error_code access_denied", resp.StatusCode, body)
	}
	start := time.Now()
	resp, body = login("admin@internal", "engine-secret")
	token, _ := body["access_token"].(string)
	if resp.StatusCode != 200 || token == "" || body["token_type"] != "bearer" || body["scope"] != "ovirt-app-api" {
		t.Fatalf("login: %d %v", resp.StatusCode, body)
	}
	exp, _ := body["exp"].(float64) // ms since the epoch, as the engine's
	if got := time.UnixMilli(int64(exp)); got.Before(start.Add(DefaultTokenLifetime-time.Minute)) || got.After(time.Now().Add(DefaultTokenLifetime)) {
		t.Errorf("exp %v; want about %v from now", got, DefaultTokenLifetime)
	}
	if resp := g.do(t, g.tcp, g.tcpURL, http.MethodPost, "/ovirt-engine/api/hosts/h/setupnetworks", token, nil); resp.StatusCode != 200 {
		t.Errorf("a write with the rw user's token: %d", resp.StatusCode)
	}
	// The SDKs' logout: the token in the form.
	resp = g.do(t, g.tcp, g.tcpURL, http.MethodPost, ssoLogoutPath, "", url.Values{"scope": {"ovirt-app-api"}, "token": {token}})
	if data, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || strings.TrimSpace(string(data)) != "{}" {
		t.Errorf("logout: %d %s", resp.StatusCode, data)
	}
	if resp := g.do(t, g.tcp, g.tcpURL, http.MethodGet, "/ovirt-engine/api", token, nil); resp.StatusCode != 401 {
		t.Errorf("a request after logout: %d; want 401", resp.StatusCode)
	}
	_, body = login("monitor", "monitor-secret")
	ro, _ := body["access_token"].(string)
	if resp := g.do(t, g.tcp, g.tcpURL, http.MethodPut, "/ovirt-engine/api/networks/n", ro, nil); resp.StatusCode != 403 {
		t.Errorf("a write with the ro user's token: %d; want 403", resp.StatusCode)
	}
	resp = g.do(t, g.tcp, g.tcpURL, http.MethodPost, ssoTokenPath, "", url.Values{"grant_type": {"client_credentials"}})
	if resp.StatusCode != 400 {
		t.Errorf("another grant type: %d; want 400", resp.StatusCode)
	}
}

func TestSSOWithoutUsersIsDenied(t *testing.T) {
	tokens := writeSecret(t, "tokens", testRWToken+" rw\n", 0o600)
	g := newGuarded(t, AccessOptions{TokensFile: tokens, RateLimit: -1})
	resp := g.do(t, g.tcp, g.tcpURL, http.MethodPost, ssoTokenPath, "", url.Values{
		"grant_type": {"password"}, "username": {"admin@internal"}, "password": {"x"}})
	if resp.StatusCode != 401 {
		t.Errorf("password login without a users file: %d; want 401", resp.StatusCode)
	}
}

func TestSocketGroup(t *testing.T) {
	nstest.RequireRoot(t) // giving a file to another group needs CAP_CHOWN
	for group, gid := range map[string]uint32{"4242": 4242, "nogroup": 65534} {
		path := filepath.Join(t.TempDir(), "hostnetd.sock")
		ln, err := ListenWith("unix:"+path, ListenOptions{SocketGroup: group})
		if err != nil {
			t.Fatal(err)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(path, &st); err != nil {
			t.Fatal(err)
		}
		if st.Gid != gid || st.Mode&0o777 != 0o660 {
			t.Errorf("--socket-group %s: gid %d mode %o; want gid %d mode 660", group, st.Gid, st.Mode&0o777, gid)
		}
		ln.Close()
	}
	if _, err := ListenWith("unix:"+filepath.Join(t.TempDir(), "s.sock"), ListenOptions{SocketGroup: "no-such-group-hostnetd"}); err == nil {
		t.Error("an unknown group was accepted")
	}
}

// A reload puts new tokens in force and retires the old ones; it ends the
// SSO sessions of a user whose password changed and keeps the others; a
// file that no longer reads leaves everything as it was.
func TestReloadCredentials(t *testing.T) {
	tokens := writeSecret(t, "tokens", testRWToken+" rw\n", 0o600)
	users := testUsersFile(t)
	g := newGuarded(t, AccessOptions{TokensFile: tokens, UsersFile: users, RateLimit: -1})
	status := func(token string) int {
		return g.do(t, g.tcp, g.tcpURL, http.MethodGet, "/ovirt-engine/api", token, nil).StatusCode
	}
	login := func(user, password string) string {
		resp := g.do(t, g.tcp, g.tcpURL, http.MethodPost, ssoTokenPath, "", url.Values{
			"grant_type": {"password"}, "scope": {"ovirt-app-api"}, "username": {user}, "password": {password}})
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		token, _ := body["access_token"].(string)
		if token == "" {
			t.Fatalf("login of %s: %d %v", user, resp.StatusCode, body)
		}
		return token
	}
	admin, monitor := login("admin@internal", "engine-secret"), login("monitor", "monitor-secret")

	rewrite := func(path, content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rewrite(tokens, testROToken+" ro\n")
	newHash, _ := bcrypt.GenerateFromPassword([]byte("rotated"), bcrypt.MinCost)
	data, _ := os.ReadFile(users)
	lines := strings.SplitAfter(string(data), "\n")
	rewrite(users, "admin@internal:"+string(newHash)+":rw\n"+lines[1])
	if err := g.agent.access.reload(); err != nil {
		t.Fatalf("reloading the credentials: %v", err)
	}
	for _, c := range []struct {
		what, token string
		want        int
	}{
		{"the new token", testROToken, 200},
		{"the removed token", testRWToken, 401},
		{"the session of the user whose password changed", admin, 401},
		{"the session of the unchanged user", monitor, 200},
	} {
		if got := status(c.token); got != c.want {
			t.Errorf("%s after the reload: %d; want %d", c.what, got, c.want)
		}
	}
	login("admin@internal", "rotated")

	rewrite(tokens, testRWToken+" superuser\n")
	if err := g.agent.access.reload(); err == nil {
		t.Error("a tokens file with an unknown scope was reloaded")
	}
	if got := status(testROToken); got != 200 {
		t.Errorf("after a failed reload the token in force answers %d; want 200", got)
	}
}
