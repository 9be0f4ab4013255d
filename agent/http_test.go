package agent

import (
	"net/http"
	"testing"
)

func TestNegotiate(t *testing.T) {
	tests := []struct {
		accept string
		want   format
		ok     bool
	}{
		{"", formatXML, true},
		{"application/xml", formatXML, true},
		{"application/json", formatJSON, true},
		{"application/json; charset=utf-8", formatJSON, true},
		{"*/*", formatXML, true},
		{"text/html, application/json;q=0.9", formatJSON, true},
		{"application/xml;q=0.5, application/json", formatJSON, true},
		{"application/json;q=0, application/xml", formatXML, true},
		{"text/html", formatXML, false},
		{"image/png, text/plain", formatXML, false},
	}
	for _, tt := range tests {
		got, ok := negotiate(tt.accept)
		if got != tt.want || ok != tt.ok {
			t.Errorf("negotiate(%q) = %v, %v; want %v, %v", tt.accept, got, ok, tt.want, tt.ok)
		}
	}
}

func TestStripPrefix(t *testing.T) {
	tests := []struct {
		path, want string
		ok         bool
	}{
		{"/ovirt-engine/api", "", true},
		{"/ovirt-engine/api/hosts", "/hosts", true},
		{"/ovirt-engine/api/v4/hosts/h/nics", "/hosts/h/nics", true},
		{"/api/hosts", "/hosts", true},
		{"/ovirt-engine/api//hosts", "/hosts", true},
		{"//api/hosts/", "/hosts/", true},
		{"/apix/hosts", "", false},
		{"/hosts", "", false},
		{"/ovirt-engine/apis", "", false},
	}
	for _, tt := range tests {
		got, ok := stripPrefix(tt.path)
		if got != tt.want || ok != tt.ok {
			t.Errorf("stripPrefix(%q) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRouterMatch(t *testing.T) {
	var rt router
	h := func(*request) (response, error) { return response{}, nil }
	rt.handle("hosts/{host}/nics", map[string]handler{http.MethodGet: h, http.MethodPost: h})
	rt.handle("hosts/{host}/nics/{nic}", map[string]handler{http.MethodGet: h})

	_, params, f := rt.match(http.MethodGet, "/hosts/H/nics/N")
	if f != nil || params["host"] != "H" || params["nic"] != "N" {
		t.Errorf("match GET nic: params %v, fault %v", params, f)
	}
	if _, _, f := rt.match(http.MethodHead, "/hosts/H/nics"); f != nil {
		t.Errorf("HEAD falls back to GET; got fault %v", f)
	}
	_, _, f = rt.match(http.MethodDelete, "/hosts/H/nics")
	if f == nil || f.Status != http.StatusMethodNotAllowed || len(f.Allow) != 2 || f.Allow[0] != "GET" || f.Allow[1] != "POST" {
		t.Errorf("DELETE /nics: fault %+v; want 405 with Allow GET, POST", f)
	}
	_, _, f = rt.match(http.MethodGet, "/hosts/H/nics/N/extra")
	if f == nil || f.Status != http.StatusNotFound {
		t.Errorf("unknown path: fault %+v; want 404", f)
	}
}
