package integration

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

func TestHostsAndPrefixes(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	ag := agenttest.Start(t, host)

	hosts := parseXML(t, ag.Get(t, "/ovirt-engine/api/hosts"))
	if n := len(hosts.All("host")); n != 1 {
		t.Fatalf("GET /hosts lists %d hosts; want exactly 1", n)
	}
	if id, _ := hosts.Child("host").Attr("id"); id != ag.HostID() {
		t.Errorf("host id = %q; want %q", id, ag.HostID())
	}
	for _, prefix := range []string{"/ovirt-engine/api", "/ovirt-engine/api/v4", "/api", "/ovirt-engine/api/"} {
		r := ag.Get(t, prefix+"/hosts/"+ag.HostID()+"/nics", "Version: 4")
		if r.Status != http.StatusOK {
			t.Errorf("GET via %s: %d", prefix, r.Status)
		}
	}
	root := parseXML(t, ag.Get(t, "/ovirt-engine/api"))
	if root.Name != "api" || len(root.All("link")) == 0 {
		t.Errorf("API root = %s", root.Canonical())
	}
	// What the SDK's system_service().get() and the Ansible modules'
	// engine_version read: "%s.%s" % (major, minor) must be "4.5".
	if v := root.Child("product_info").Child("version"); v == nil || v.Child("major").Text != "4" || v.Child("minor").Text != "5" ||
		v.Child("build") == nil || v.Child("revision") == nil || v.Child("full_version").Text != "4.5.0" {
		t.Errorf("product_info = %s", root.Child("product_info").Canonical())
	}
	if h := root.Child("summary").Child("hosts"); h == nil || h.Child("total").Text != "1" {
		t.Errorf("summary = %s", root.Child("summary").Canonical())
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z07:00", root.Child("time").Text); err != nil {
		t.Errorf("time: %v", err)
	}
	if root.Child("hostnetd").Child("version") == nil {
		t.Errorf("no hostnetd build in %s", root.Canonical())
	}
	if r := ag.Get(t, ag.HostPath()); r.Status != http.StatusOK {
		t.Errorf("GET host: %d", r.Status)
	}
}

func TestMaxLimitsCollections(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	nstest.Veth(t, host, "eth1", peer, "p1")
	ag := agenttest.Start(t, host)
	if n := len(parseXML(t, ag.Get(t, ag.HostPath()+"/nics?max=1")).All("host_nic")); n != 1 {
		t.Errorf("max=1 gave %d NICs", n)
	}
	if n := len(parseXML(t, ag.Get(t, ag.HostPath()+"/nics?max=-1")).All("host_nic")); n != 2 {
		t.Errorf("max=-1 gave %d NICs; want all 2", n)
	}
	r := ag.Get(t, ag.HostPath()+"/nics?max=lots")
	expectFault(t, r, http.StatusBadRequest, "INVALID_VALUE")
}

// TestFaultsChangeNothing sends the requests the API must refuse and checks
// each gets its fault, in XML and JSON, and that the namespace is unchanged.
func TestFaultsChangeNothing(t *testing.T) {
	host, _ := inventoryHost(t)
	ag := agenttest.Start(t, host)
	before := dump(t, host)
	nics := ag.HostPath() + "/nics"
	big := bytes.Repeat([]byte("<a/>"), 2<<20/4)

	tests := []struct {
		name, method, path string
		body               []byte
		headers            []string
		status             int
		code               string
	}{
		{"unknown-nic", "GET", nics + "/no-such-nic", nil, nil, 404, "ENTITY_NOT_FOUND"},
		{"unknown-host", "GET", "/ovirt-engine/api/hosts/other/nics", nil, nil, 404, "ENTITY_NOT_FOUND"},
		{"unknown-path", "GET", "/ovirt-engine/api/frobnicators", nil, nil, 404, "ENTITY_NOT_FOUND"},
		{"outside-the-api", "GET", "/etc/passwd", nil, nil, 404, "ENTITY_NOT_FOUND"},
		{"delete-nics", "DELETE", nics, nil, nil, 405, "METHOD_NOT_ALLOWED"},
		{"put-host", "PUT", ag.HostPath(), []byte("<host/>"), nil, 405, "METHOD_NOT_ALLOWED"},
		{"two-mib-body", "POST", nics, big, nil, 413, "REQUEST_BODY_TOO_LARGE"},
		{"two-mib-body-on-get", "GET", nics, big, nil, 413, "REQUEST_BODY_TOO_LARGE"},
		{"html-only", "GET", nics, nil, []string{"Accept: text/html"}, 406, "NOT_ACCEPTABLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ag.Do(t, tt.method, tt.path, tt.body, tt.headers...)
			expectFault(t, r, tt.status, tt.code)
			if tt.status == http.StatusMethodNotAllowed && r.Header.Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
			if tt.status == http.StatusNotAcceptable {
				return
			}
			rj := ag.Do(t, tt.method, tt.path, tt.body, append(tt.headers, "Accept: application/json")...)
			var fault struct{ Reason, Detail, Code string }
			if err := json.Unmarshal(rj.Body, &fault); err != nil || rj.Status != tt.status || fault.Code != tt.code {
				t.Errorf("JSON fault: %d %s (%v); want %d %s", rj.Status, rj.Body, err, tt.status, tt.code)
			}
		})
	}
	if after := dump(t, host); after != before {
		t.Errorf("the namespace changed:\n--- before\n%s\n--- after\n%s", before, after)
	}
}

func expectFault(t *testing.T, r agenttest.Response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d; want %d\n%s", r.Status, status, r.Body)
	}
	f := parseXML(t, r)
	if f.Name != "fault" {
		t.Fatalf("root = %s; want fault", f.Name)
	}
	if got := text(f, "code"); got != code {
		t.Errorf("code = %q; want %q", got, code)
	}
	if text(f, "reason") == "" || !strings.HasSuffix(text(f, "detail"), "("+code+")]") {
		t.Errorf("fault lacks a reason or a detail ending in the code: %s", f.Canonical())
	}
}

// dump is a canonical text of the namespace's configuration, for
// before/after comparisons (netconf.State.Dump).
func dump(t *testing.T, ns *kernel.Namespace) string {
	t.Helper()
	st, err := kernel.ReadState(ns)
	if err != nil {
		t.Fatal(err)
	}
	return st.Dump()
}

// TestSearch: search= on /hosts and /networks in oVirt's search language,
// as the SDK and the Ansible modules send it; a host search that does not
// name this host lists no host, and a malformed one is refused.
func TestSearch(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	ag := agenttest.Start(t, host)
	addNetwork(t, ag, `<network><name>vmnet</name><usages><usage>vm</usage></usages></network>`)
	addNetwork(t, ag, `<network><name>storage</name><vlan id="20"/></network>`)
	hostName := text(parseXML(t, ag.Get(t, ag.HostPath())), "name")

	q := url.QueryEscape
	count := func(path, elem string) int {
		t.Helper()
		return len(parseXML(t, ag.Get(t, path)).All(elem))
	}
	hosts := map[string]int{
		"":                           1,
		"name=no-such-host":          0,
		"name=" + hostName:           1,
		`name="` + hostName + `"`:    1,
		"name=" + hostName[:1] + "*": 1,
		`Hosts: name="` + hostName + `" and datacenter=Default and cluster=Default`: 1,
		"name=" + hostName + " and datacenter=Other":                                0,
		"status=up":                      1,
		"name=no-such-host or status=up": 1,
		"storage=whatever":               0,
	}
	for s, want := range hosts {
		if got := count("/ovirt-engine/api/hosts?search="+q(s), "host"); got != want {
			t.Errorf("hosts?search=%s lists %d hosts; want %d", s, got, want)
		}
	}
	networks := map[string]int{
		"":                                      2,
		`name="vmnet"`:                          1,
		`name="vmnet" and datacenter="Default"`: 1, // Ansible's ovirt_network
		`name="vmnet" and datacenter="Other"`:   0,
		"name=VMNET":                            0,
		"name=*":                                2,
		"name=s*":                               1,
		"vlanid=20":                             1,
		"vmnetwork=true":                        1,
		"name=vmnet or name=storage":            2,
		"label=x":                               0,
	}
	for s, want := range networks {
		if got := count("/ovirt-engine/api/networks?search="+q(s), "network"); got != want {
			t.Errorf("networks?search=%s lists %d networks; want %d", s, got, want)
		}
	}
	if got := count("/ovirt-engine/api/networks?case_sensitive=false&search="+q("name=VMNET"), "network"); got != 1 {
		t.Errorf("case_sensitive=false: %d networks; want 1", got)
	}
	if got := count("/ovirt-engine/api/networks?max=1&search="+q("name=*"), "network"); got != 1 {
		t.Errorf("max=1: %d networks; want 1", got)
	}
	for _, path := range []string{"/ovirt-engine/api/hosts", "/ovirt-engine/api/networks", "/ovirt-engine/api/events"} {
		expectFault(t, ag.Get(t, path+"?search="+q(`name="unclosed`)), http.StatusBadRequest, agent.CodeSearchSyntax)
		expectFault(t, ag.Get(t, path+"?search="+q("name=x and")), http.StatusBadRequest, agent.CodeSearchSyntax)
	}
	expectFault(t, ag.Get(t, "/ovirt-engine/api/networks?case_sensitive=maybe"), http.StatusBadRequest, agent.CodeInvalidValue)
}
