package contract

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"golang.org/x/crypto/bcrypt"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// The sandbox the clients ran against: four veth NICs on a switch whose
// bridge answers the connectivity probe (test/clients/harness_test.go).
const (
	probeNet   = "192.0.2.1/24"
	probeHost  = "192.0.2.1"
	replayPass = "contract-replay"
)

// TestReplay replays every recorded client exchange of testdata/*.json, in
// order, against a hostnetd agent on a sandbox like the one the clients
// drove, with the recorded host id and name, and checks that each answer
// carries what the client read: the status, the kernel writes, the
// Location, and every element and attribute of the recorded body with its
// value, except those that differ from one machine or run to the next
// (MACs, link-local addresses, counters, times, tokens). An answer may
// carry more than was recorded.
func TestReplay(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no recorded exchanges in testdata (make contract-record)")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			fx, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			replay(t, fx)
		})
	}
}

func replay(t *testing.T, fx *Fixture) {
	nstest.RequireRoot(t)
	base, nsName := startSandboxAgent(t, fx)
	client := &http.Client{Timeout: 3 * time.Minute}
	token := ""
	ids := map[string]string{} // recorded → replayed, for ids the replay cannot fix (async actions)
	subst := func(s string) string {
		s = strings.ReplaceAll(s, TokenPlaceholder, token)
		s = strings.ReplaceAll(s, url.QueryEscape(TokenPlaceholder), url.QueryEscape(token))
		s = strings.ReplaceAll(s, url.QueryEscape(PasswordPlaceholder), url.QueryEscape(replayPass))
		for from, to := range ids {
			s = strings.ReplaceAll(s, from, to)
		}
		return s
	}
	for i, x := range fx.Exchanges {
		what := fmt.Sprintf("exchange %d (%s) %s %s", i, x.Step, x.Method, x.Path)
		if x.Method == KernelMethod {
			if out, err := exec.Command("ip", append([]string{"-n", nsName}, strings.Fields(x.Path)...)...).CombinedOutput(); err != nil {
				t.Fatalf("%s: %v: %s", what, err, out)
			}
			continue
		}
		body := subst(x.RequestBody)
		if x.Method == http.MethodPost && strings.HasSuffix(x.Path, "/networks") && x.Status == http.StatusCreated {
			body = withRecordedID(t, body, x.ResponseBody)
		}
		u := base + subst(x.Path)
		if x.Query != "" {
			u += "?" + subst(x.Query)
		}
		req, err := http.NewRequest(x.Method, u, strings.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		for k, v := range x.RequestHeaders {
			req.Header.Set(k, subst(v))
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if resp.StatusCode != x.Status {
			t.Errorf("%s: status %d; recorded %d\n%s", what, resp.StatusCode, x.Status, got)
			continue
		}
		if strings.HasSuffix(x.Path, "/sso/oauth/token") && resp.StatusCode == http.StatusOK {
			var tok struct {
				AccessToken string `json:"access_token"`
			}
			if err := json.Unmarshal(got, &tok); err != nil || tok.AccessToken == "" {
				t.Fatalf("%s: no access_token in %s", what, got)
			}
			token = tok.AccessToken
		}
		if loc := x.ResponseHeaders["Location"]; loc != "" {
			rec, rep := path.Base(loc), path.Base(resp.Header.Get("Location"))
			if rec != rep {
				ids[rec] = rep
			}
		}
		for _, h := range []string{"X-Hostnetd-Kernel-Writes", "Www-Authenticate", "Allow"} {
			if want := x.ResponseHeaders[h]; want != "" && resp.Header.Get(h) != want {
				t.Errorf("%s: %s: %q; recorded %q", what, h, resp.Header.Get(h), want)
			}
		}
		if want := mediaType(x.ResponseHeaders["Content-Type"]); want != "" && mediaType(resp.Header.Get("Content-Type")) != want {
			t.Errorf("%s: Content-Type %q; recorded %q", what, resp.Header.Get("Content-Type"), want)
		}
		recorded := leaves(t, x.ResponseBody, subst)
		replayed := leaves(t, string(got), func(s string) string { return s })
		if missing := missingFrom(recorded, replayed); len(missing) > 0 {
			t.Errorf("%s: the answer lacks what the client read:\n  %s\n--- answer\n%s", what, strings.Join(missing, "\n  "), got)
		}
	}
	t.Logf("replayed %d exchanges of %s", len(fx.Exchanges), fx.Client)
}

// startSandboxAgent runs an agent with the fixture's host id and name on a
// fresh sandbox (four veth NICs, a switch answering the probe) and returns
// the base URL of its TCP listener, where SSO and bearer tokens apply, and
// the name of the host namespace.
func startSandboxAgent(t *testing.T, fx *Fixture) (string, string) {
	t.Helper()
	sandboxes++
	name := fmt.Sprintf("hnct-%d-%d", os.Getpid()%100000, sandboxes)
	sb, err := kernel.CreateSandbox(name, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Destroy(); err != nil {
			// Unmounting /run/netns/NAME fails with EBUSY while another
			// process copies the mount table (unshare, another test's
			// namespace): the entry is still there, and a retry removes it.
			for range 50 {
				if !kernel.NamespaceExists(sb.Host.Name) && !kernel.NamespaceExists(sb.Switch.Name) {
					break
				}
				time.Sleep(100 * time.Millisecond)
				_, _ = kernel.DeleteNamespace(sb.Host.Name), kernel.DeleteNamespace(sb.Switch.Name)
			}
			if kernel.NamespaceExists(sb.Host.Name) || kernel.NamespaceExists(sb.Switch.Name) {
				t.Error(err)
			}
		}
	})
	if out, err := exec.Command("ip", "-n", sb.Switch.Name, "addr", "add", probeNet, "dev", kernel.SwitchBridge).CombinedOutput(); err != nil {
		t.Fatalf("ip addr add: %v: %s", err, out)
	}
	var probe net.Listener
	if err := sb.Switch.Do(func() (err error) { probe, err = net.Listen("tcp", probeHost+":80"); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { probe.Close() })
	go func() {
		for {
			c, err := probe.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()

	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "state", "host-id"), []byte(fx.HostID+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(replayPass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users := filepath.Join(dir, "users")
	if err := os.WriteFile(users, []byte(fx.User+":"+string(hash)+":rw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ag, err := agent.New(zaptest.NewLogger(t), agent.Options{
		Namespace: sb.Host, StateDir: filepath.Join(dir, "state"), RunDir: filepath.Join(dir, "run"),
		HostName: fx.HostName, ConnectivityProbes: []string{"tcp:" + probeHost + ":80"}, MaxConnectivityTimeout: 10,
		Access: agent.AccessOptions{UsersFile: users, RateLimit: -1},
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- ag.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent.Run: %v", err)
		}
		ag.Close()
	})
	select {
	case <-ag.Restored():
	case <-time.After(time.Minute):
		t.Fatal("the agent did not restore within a minute")
	}
	return "http://" + ln.Addr().String(), sb.Host.Name
}

// sandboxes counts the sandboxes this test binary made, for their names.
var sandboxes int

var (
	xmlRootIDRe  = regexp.MustCompile(`^\s*(?:<\?xml[^>]*\?>\s*)?<network\b[^>]*\bid="([^"]+)"`)
	jsonRootIDRe = regexp.MustCompile(`"id"\s*:\s*"([^"]+)"`)
)

// withRecordedID gives a network creation the id hostnetd chose when it
// was recorded, so that every id derived from it (attachments) and every
// path that names it replay as recorded. It is the only change the replay
// makes to a request beyond the credentials.
func withRecordedID(t *testing.T, body, recordedResponse string) string {
	t.Helper()
	if m := xmlRootIDRe.FindStringSubmatch(recordedResponse); m != nil {
		return strings.Replace(body, "<network", `<network id="`+m[1]+`"`, 1)
	}
	if m := jsonRootIDRe.FindStringSubmatch(recordedResponse); m != nil && strings.HasPrefix(strings.TrimSpace(body), "{") {
		return strings.Replace(body, "{", `{"id":"`+m[1]+`",`, 1)
	}
	t.Fatalf("no network id in the recorded answer %s", recordedResponse)
	return ""
}

func mediaType(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.TrimSpace(mt)
}

var (
	macRe       = regexp.MustCompile(`^([0-9a-f]{2}:){5}[0-9a-f]{2}$`)
	linkLocalRe = regexp.MustCompile(`^fe80:`)
)

// volatile says whether a leaf differs from one machine or run to the
// next, so the contract cannot fix its value (only that it is there).
func volatile(path, value string) bool {
	last := path[strings.LastIndexAny(path, "/@")+1:]
	switch last {
	case "time", "exp", "access_token", "ifindex":
		return true
	}
	return strings.Contains(path, "statistic") || strings.HasSuffix(path, "hostnetd/version") ||
		macRe.MatchString(value) || linkLocalRe.MatchString(value) ||
		strings.Contains(path, "/event/description") || strings.Contains(path, "/event@") && last != "href" ||
		strings.HasPrefix(path, "events/event/")
}

// leaves flattens an XML or JSON body into its element paths, and those
// with values ("hosts/host/name=vm", "host/nics@href=…") but for volatile
// ones, each value passed through subst.
func leaves(t *testing.T, body string, subst func(string) string) map[string]int {
	t.Helper()
	out := map[string]int{}
	// Every element (or JSON value) counts by its path; a value that does
	// not vary counts once more with it. An empty element's value is not
	// checked: where it was empty, the answer may now have content.
	add := func(path, value string) {
		value = subst(strings.TrimSpace(value))
		if value == "" || volatile(path, value) {
			return
		}
		out[path+"="+value]++
	}
	body = strings.TrimSpace(body)
	switch {
	case body == "":
	case strings.HasPrefix(body, "<"):
		root, err := parseTree(body)
		if err != nil {
			t.Fatalf("parsing %q: %v", body, err)
		}
		var walk func(prefix string, n *elem)
		walk = func(prefix string, n *elem) {
			p := strings.TrimPrefix(prefix+"/"+n.name, "/")
			// A link-local address comes with the link, a moment after it is
			// up (IPv6 autoconfiguration): the replay, faster than the
			// clients, may read a NIC before it has one.
			if n.name == "ip_address" && linkLocalRe.MatchString(n.child("address")) {
				return
			}
			// A new bridge's operational state (and whether it has one yet)
			// follows its ports' carrier a moment later: the replay, faster
			// than the clients, may read it before.
			if n.name == "status" && strings.HasSuffix(prefix, "host_nic") {
				return
			}
			out[p]++
			for _, a := range n.attrs {
				add(p+"@"+a.Name.Local, a.Value)
			}
			if len(n.children) == 0 {
				add(p, n.text)
			}
			for _, c := range n.children {
				walk(p, c)
			}
		}
		walk("", root)
	default:
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("parsing %q: %v", body, err)
		}
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch vv := v.(type) {
			case map[string]any:
				for k, c := range vv {
					walk(strings.TrimPrefix(path+"/"+k, "/"), c)
				}
			case []any:
				for _, c := range vv {
					walk(path, c)
				}
			default:
				out[path]++
				add(path, fmt.Sprint(vv))
			}
		}
		walk("", v)
	}
	return out
}

// missingFrom lists the recorded leaves the replayed answer lacks (or has
// fewer of).
func missingFrom(recorded, replayed map[string]int) []string {
	var missing []string
	for k, n := range recorded {
		if replayed[k] < n {
			missing = append(missing, fmt.Sprintf("%s (×%d, answer has %d)", k, n, replayed[k]))
		}
	}
	sort.Strings(missing)
	return missing
}

// elem is an XML element, for leaves.
type elem struct {
	name     string
	attrs    []xml.Attr
	text     string
	children []*elem
}

// child is the text of the first child element named name.
func (e *elem) child(name string) string {
	for _, c := range e.children {
		if c.name == name {
			return strings.TrimSpace(c.text)
		}
	}
	return ""
}

func parseTree(body string) (*elem, error) {
	dec := xml.NewDecoder(strings.NewReader(body))
	var stack []*elem
	var root *elem
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			e := &elem{name: tk.Name.Local, attrs: tk.Attr}
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.children = append(top.children, e)
			} else {
				root = e
			}
			stack = append(stack, e)
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tk)
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	if root == nil {
		return nil, fmt.Errorf("no element")
	}
	return root, nil
}
