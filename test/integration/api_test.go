package integration

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

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
