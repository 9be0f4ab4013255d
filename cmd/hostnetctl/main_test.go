package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"slices"
	"testing"
)

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		arg     string
		pos     []string
		dryRun  bool
		output  string
		wantErr bool
	}{
		{"flag-after-file", []string{"f.xml", "--dry-run"}, "FILE", []string{"f.xml"}, true, "table", false},
		{"flags-before", []string{"-o", "json", "--dry-run", "f.xml"}, "FILE", []string{"f.xml"}, true, "json", false},
		{"stdin", []string{"-", "-o", "json"}, "FILE", []string{"-"}, false, "json", false},
		{"after-terminator", []string{"--", "--dry-run"}, "FILE", []string{"--dry-run"}, false, "table", false},
		{"missing-file", []string{"--dry-run"}, "FILE", nil, true, "table", true},
		{"two-files", []string{"a", "b"}, "FILE", nil, false, "table", true},
		{"none-wanted", []string{"x"}, "", nil, false, "table", true},
		{"unknown-flag", []string{"--frob"}, "", nil, false, "table", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := options{output: "table"}
			fs := newFlagSet("apply", &opts)
			dry := fs.Bool("dry-run", false, "")
			pos, err := parseInterspersed(fs, tt.args, tt.arg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v; want error %v", err, tt.wantErr)
			}
			if err == nil && (!slices.Equal(pos, tt.pos) || *dry != tt.dryRun || opts.output != tt.output) {
				t.Errorf("positional %q, dry-run %v, -o %s; want %q, %v, %s", pos, *dry, opts.output, tt.pos, tt.dryRun, tt.output)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	live := context.Background()
	cancelled, cancel := context.WithCancel(live)
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want int
	}{
		{"ok", live, nil, exitOK},
		{"rule-fault", live, &faultError{status: 400, code: "BAD_ADDR_INVALID"}, exitFault},
		{"other-conflict", live, &faultError{status: 409, code: "NETWORK_IS_ATTACHED"}, exitFault},
		{"busy", live, &faultError{status: 409, code: "NETWORK_OPERATION_IN_PROGRESS"}, exitBusy},
		{"restoring", live, &faultError{status: 503, code: "RESTORE_IN_PROGRESS"}, exitBusy},
		{"internal", live, &faultError{status: 500, code: "INTERNAL_ERROR"}, exitFault},
		{"unreachable", live, &unreachableError{socket: "/x", err: errors.New("refused")}, exitUnreachable},
		{"usage", live, &usageError{flag.ErrHelp}, exitUsage},
		{"interrupted", cancelled, context.Canceled, exitInterrupted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.ctx, tt.err); got != tt.want {
				t.Errorf("exitCode(%v) = %d; want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestFaultMessage(t *testing.T) {
	tests := []struct {
		f    faultError
		want string
	}{
		{faultError{status: 400, reason: "Operation Failed", detail: "[Cannot setup Networks. bad (BAD_ADDR_INVALID)]", code: "BAD_ADDR_INVALID"},
			"400 Operation Failed: Cannot setup Networks. bad (BAD_ADDR_INVALID)"},
		{faultError{status: 409, reason: "Operation Failed", detail: "busy", code: "NETWORK_OPERATION_IN_PROGRESS"},
			"409 Operation Failed: busy (NETWORK_OPERATION_IN_PROGRESS)"},
		{faultError{status: 502, reason: "Bad Gateway"}, "502 Bad Gateway"},
	}
	for _, tt := range tests {
		if got := tt.f.Error(); got != tt.want {
			t.Errorf("Error() = %q; want %q", got, tt.want)
		}
	}
}

func TestAddressing(t *testing.T) {
	var a attachment
	a.IP.Assignments = []assignment{
		{Method: "static", IP: ip{Address: "192.0.2.10", Netmask: "255.255.255.0", Gateway: "192.0.2.1", Version: "v4"}},
		{Method: "static", IP: ip{Address: "2001:db8::10", Netmask: "64"}},
	}
	if got, want := addressing(a, "v4"), "static 192.0.2.10/24 gw 192.0.2.1"; got != want {
		t.Errorf("v4: %q; want %q", got, want)
	}
	if got, want := addressing(a, "v6"), "static 2001:db8::10/64"; got != want {
		t.Errorf("v6: %q; want %q", got, want)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{nil, {"frob"}, {"nics", "x"}, {"-o", "yaml", "nics"}, {"--frob"}} {
		if got := run(context.Background(), args, nil, io.Discard, io.Discard); got != exitUsage {
			t.Errorf("hostnetctl %q: exit %d; want %d", args, got, exitUsage)
		}
	}
}
