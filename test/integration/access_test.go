package integration

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

const monitorToken = "monitor-token-0123456789"

// secretFile writes a root-only file (mode 0600), as hostnetd wants its
// tokens and users.
func secretFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key, and
// returns a pool that trusts it.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hostnetd test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// engineClient talks to hostnetd's TCP listener as the oVirt SDKs do.
type engineClient struct {
	t     *testing.T
	base  string
	http  *http.Client
	token string
}

func (c *engineClient) do(method, path, body string) (int, http.Header, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/xml")
	req.Header.Set("Version", "4")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(data)
}

// login is the SDKs' password grant: a form to the SSO token endpoint,
// JSON back.
func (c *engineClient) login(user, password string) map[string]any {
	c.t.Helper()
	resp, err := c.http.PostForm(c.base+"/ovirt-engine/sso/oauth/token", url.Values{
		"grant_type": {"password"}, "scope": {"ovirt-app-api"}, "username": {user}, "password": {password}})
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		c.t.Fatalf("the token endpoint's answer is not JSON: %v", err)
	}
	return out
}

// TestEngineLoginOverTLSThenSetupNetworks is the oVirt SDK's way in: TLS,
// the SSO token endpoint, then Bearer requests that list the NICs and
// change the host's network, then logout.
func TestEngineLoginOverTLSThenSetupNetworks(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	nstest.Veth(t, host, "eth1", peer, "p1")
	dir := t.TempDir()
	hash, _ := bcrypt.GenerateFromPassword([]byte("engine-secret"), bcrypt.MinCost)
	users := secretFile(t, dir, "users", "admin@internal:"+string(hash)+":rw\n")
	tokens := secretFile(t, dir, "tokens", monitorToken+" ro prometheus\n")
	certFile, keyFile, pool := selfSignedCert(t, dir)
	tlsCfg, err := agent.LoadTLS(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := agent.ListenWith("tcp:127.0.0.1:0", agent.ListenOptions{TLS: tlsCfg, Credentials: true})
	if err != nil {
		t.Fatal(err)
	}
	var failStep atomic.Bool
	ag := agenttest.StartServing(t, host, dir, func(o *agent.Options) {
		o.Access = agent.AccessOptions{UsersFile: users, TokensFile: tokens}
		o.Kernel = engine.FailStep(engine.NamespaceKernel{Namespace: o.Namespace}, func(i int, _ netconf.Step) bool { return failStep.Load() && i == 2 })
	}, ln)
	c := &engineClient{t: t, base: "https://" + ln.Addr().String(),
		http: &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}

	// Plain HTTP on the TLS port gets nowhere.
	if resp, err := http.Get("http://" + ln.Addr().String() + "/ovirt-engine/api"); err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("plain HTTP on the TLS listener: %d", resp.StatusCode)
		}
	}
	if status, hdr, body := c.do("GET", "/ovirt-engine/api/hosts", ""); status != 401 || hdr.Get("WWW-Authenticate") == "" ||
		!strings.Contains(body, "<code>UNAUTHORIZED</code>") {
		t.Fatalf("no token: %d %q\n%s", status, hdr.Get("WWW-Authenticate"), body)
	}
	if answer := c.login("admin@internal", "wrong"); answer["error_code"] != "access_denied" {
		t.Errorf("a wrong password: %v", answer)
	}
	answer := c.login("admin@internal", "engine-secret")
	c.token, _ = answer["access_token"].(string)
	if c.token == "" || answer["token_type"] != "bearer" {
		t.Fatalf("login: %v", answer)
	}
	hostPath := "/ovirt-engine/api/hosts/" + ag.HostID()
	status, _, body := c.do("GET", hostPath+"/nics", "")
	if status != 200 || !strings.Contains(body, "<name>eth0</name>") || !strings.Contains(body, "<name>eth1</name>") {
		t.Fatalf("GET nics with the SSO token: %d\n%s", status, body)
	}
	if status, _, body := c.do("POST", "/ovirt-engine/api/networks", `<network><name>vmnet</name><usages><usage>vm</usage></usages></network>`); status != 201 {
		t.Fatalf("POST network: %d\n%s", status, body)
	}
	status, hdr, body := c.do("POST", hostPath+"/setupnetworks", modified(staticAttachment("vmnet", "eth0", "192.0.2.10", "24")))
	if status != 200 || hdr.Get("X-Hostnetd-Kernel-Writes") == "0" {
		t.Fatalf("setupnetworks with the SSO token: %d\n%s", status, body)
	}
	if _, master, _ := linkState(t, host, "eth0"); master != "vmnet" {
		t.Errorf("after setupnetworks eth0 master = %q; want vmnet", master)
	}
	if _, _, addrs := linkState(t, host, "vmnet"); strings.Join(addrs, " ") != "192.0.2.10/24" {
		t.Errorf("vmnet addresses %v", addrs)
	}

	// A failed transaction, rolled back, for the metrics.
	failStep.Store(true)
	if status, _, body := c.do("POST", hostPath+"/setupnetworks", modified(staticAttachment("vmnet", "eth1", "192.0.2.10", "24"))); status != 400 ||
		!strings.Contains(body, netconf.CodeFailedIfup) {
		t.Fatalf("the failing setupnetworks: %d\n%s", status, body)
	}
	failStep.Store(false)

	// Read-only credentials read, metrics included, but cannot write.
	monitor := &engineClient{t: t, base: c.base, http: c.http, token: monitorToken}
	if status, _, body := monitor.do("POST", hostPath+"/setupnetworks", modified()); status != 403 || !strings.Contains(body, "<code>FORBIDDEN</code>") {
		t.Errorf("a write with the read-only token: %d\n%s", status, body)
	}
	status, _, metrics := monitor.do("GET", "/metrics", "")
	if status != 200 {
		t.Fatalf("GET /metrics with the read-only token: %d\n%s", status, metrics)
	}
	m := parseMetrics(t, metrics)
	for name, want := range map[string]float64{
		`hostnetd_transactions_total{result="applied"}`:     1,
		`hostnetd_transactions_total{result="rolled_back"}`: 1,
		`hostnetd_rollbacks_total{outcome="ok"}`:            1,
		`hostnetd_rollbacks_total{outcome="failed"}`:        0,
		`hostnetd_apply_duration_seconds_count`:             2,
		`hostnetd_attachments`:                              1,
		`hostnetd_attachments_out_of_sync`:                  0,
		`hostnetd_dhcp_leases{family="ipv4"}`:               0,
		`hostnetd_http_denied_total{reason="forbidden"}`:    1,
	} {
		if got, ok := m[name]; !ok || got != want {
			t.Errorf("%s = %v (present %v); want %v", name, got, ok, want)
		}
	}
	if m[`hostnetd_netlink_writes_total{phase="apply"}`] < 3 || m[`hostnetd_netlink_writes_total{phase="rollback"}`] < 1 {
		t.Errorf("netlink writes: apply %v, rollback %v", m[`hostnetd_netlink_writes_total{phase="apply"}`], m[`hostnetd_netlink_writes_total{phase="rollback"}`])
	}
	if _, ok := m["hostnetd_restore_duration_seconds"]; !ok {
		t.Error("no restore duration")
	}

	// Drift shows at the next scrape.
	if err := host.Handle.LinkSetMTU(nstest.Link(t, host, "eth0"), 1400); err != nil {
		t.Fatal(err)
	}
	_, _, metrics = monitor.do("GET", "/metrics", "")
	if got := parseMetrics(t, metrics)["hostnetd_attachments_out_of_sync"]; got != 1 {
		t.Errorf("after eth0's MTU changed behind hostnetd's back, out of sync = %v; want 1", got)
	}
	// The Unix socket serves the metrics without a token.
	if r := ag.Get(t, "/metrics"); r.Status != 200 || !strings.Contains(string(r.Body), "hostnetd_transactions_total") {
		t.Errorf("GET /metrics on the Unix socket: %d", r.Status)
	}

	// The SDKs' logout revokes the token.
	resp, err := c.http.PostForm(c.base+"/ovirt-engine/services/sso-logout", url.Values{"scope": {"ovirt-app-api"}, "token": {c.token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("logout: %d", resp.StatusCode)
	}
	if status, _, _ := c.do("GET", hostPath+"/nics", ""); status != 401 {
		t.Errorf("a request with the revoked token: %d; want 401", status)
	}
}

// parseMetrics reads Prometheus' text format into name{labels} → value.
func parseMetrics(t *testing.T, text string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil && !strings.HasSuffix(line, "NaN") {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		if err != nil {
			v = math.NaN()
		}
		out[line[:i]] = v
	}
	return out
}
