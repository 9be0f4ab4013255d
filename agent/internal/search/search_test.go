package search

import (
	"errors"
	"testing"
)

// host is an object as the hosts collection resolves it.
func host(field string) (string, bool) {
	v, ok := map[string]string{
		"name": "hv01.example.com", "status": "up", "datacenter": "Default", "cluster": "Default",
	}[field]
	return v, ok
}

func event(field string) (string, bool) {
	v, ok := map[string]string{
		"name": "NETWORK_CHANGE_APPLIED", "type": "20001", "severity": "warning",
		"message": "network configuration applied", "host.name": "hv01", "host": "hv01",
		"time": "2026-12-06T22:47:18Z",
	}[field]
	return v, ok
}

func TestMatch(t *testing.T) {
	cases := []struct {
		query         string
		fields        Fields
		caseSensitive bool
		want          bool
	}{
		{"", host, true, true},
		{"   ", host, true, true},
		{"name=hv01.example.com", host, true, true},
		{`name="hv01.example.com"`, host, true, true},
		{"name = hv01.example.com", host, true, true},
		{"NAME=hv01.example.com", host, true, true}, // fields are case-insensitive
		{"Hosts: name=hv01.example.com", host, true, true},
		{"hosts : name=hv01*", host, true, true},
		{"name=hv01", host, true, false}, // no wildcard: the whole value
		{"name=hv01*", host, true, true},
		{"name=*example*", host, true, true},
		{"name=*.com", host, true, true},
		{"name=*", host, true, true},
		{"name=h*v*1*m", host, true, true},
		{"name=h*z*", host, true, false},
		{"name=*m*m", host, true, true},
		{"name=*mm", host, true, false},
		{"name=HV01.example.com", host, true, false}, // values: case_sensitive=true is the default
		{"name=HV01.example.com", host, false, true},
		{"name=HV01*", host, false, true},
		{"name!=hv01.example.com", host, true, false},
		{"name!=other", host, true, true},
		{"hv01.example.com", host, true, true}, // free text is the name
		{`"hv01*"`, host, true, true},
		{"no-such-host", host, true, false},
		{"name=no-such-host", host, true, false},
		{`name="hv01.example.com" and datacenter="Default"`, host, true, true},
		{`name="hv01.example.com" AND datacenter=Default`, host, true, true},
		{`name="hv01.example.com" and datacenter="Other"`, host, true, false},
		{`name=x or name=hv01*`, host, true, true},
		{`name=x OR status=down`, host, true, false},
		// and binds tighter than or.
		{`name=x and status=up or datacenter=Default`, host, true, true},
		{`name=x and status=up or datacenter=Other`, host, true, false},
		{`name=hv01* or name=x and status=down`, host, true, true},
		// A field the object does not have matches nothing.
		{"storage=iscsi", host, true, false},
		{"storage!=iscsi", host, true, false},
		{"name=hv01* and label=x", host, true, false},
		// Events: numbers and severities are ordered.
		{"type=20001", event, true, true},
		{"type=885 or type=20001", event, true, true},
		{"type>20000", event, true, true},
		{"type<=20000", event, true, false},
		{"severity>normal", event, true, true},
		{"severity>=error", event, true, false},
		{"severity=warning", event, true, true},
		{"host.name=hv01", event, true, true},
		{"Host.Name=hv01", event, true, true},
		{"type=839 or type=887 and host.name=hv01", event, true, false},
		{"type=20001 and host.name=hv01", event, true, true},
		{"message=*applied*", event, true, true},
		{"name<x", host, true, false}, // text has no order
		{"time>2026-12-06", event, true, true},
		{"time>2026-12-07", event, true, false},
		{`time>="2026-12-06T22:47:18Z"`, event, true, true},
		{"time<2026-12-06T22:47", event, true, false},
	}
	for _, c := range cases {
		q, err := Parse(c.query)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.query, err)
			continue
		}
		if got := q.Match(c.fields, c.caseSensitive); got != c.want {
			t.Errorf("%q (case_sensitive=%v) matches = %v; want %v", c.query, c.caseSensitive, got, c.want)
		}
	}
}

func TestSyntaxErrors(t *testing.T) {
	for _, q := range []string{
		`name="unclosed`,
		"name=",
		"name=x and",
		"name=x or",
		"and name=x",
		"name=x name=y",
		"name=x and or name=y",
		"=x",
		"name==x",
		"name!x",
		"name=x)",
		`"quoted"=x`,
		"na..me=x",
		"name<",
	} {
		_, err := Parse(q)
		if q == "name=x)" {
			// ")" is part of a word: the engine has no parentheses.
			if err != nil {
				t.Errorf("Parse(%q): %v", q, err)
			}
			continue
		}
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) = %v; want a syntax error", q, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"name=x", `Hosts: name="a b" and datacenter=Default`, "type>1 or severity<=error", `"x`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("Parse(%q): %v is not a syntax error", s, err)
			}
			return
		}
		q.Match(host, true)
		q.Match(event, false)
	})
}
