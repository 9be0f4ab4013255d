package main

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// TestUnitKeepsItsPromises pins the choices of systemd/hostnetd.service that
// the daemon relies on or that hardening depends on; `make verify-unit`
// checks that systemd accepts the file.
func TestUnitKeepsItsPromises(t *testing.T) {
	f, err := os.Open("../../systemd/hostnetd.service")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	unit := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			unit[k] = v
		}
	}
	for key, want := range map[string]string{
		"Type":                     "notify", // READY=1 after restore
		"NotifyAccess":             "main",
		"Restart":                  "on-failure",
		"WatchdogSec":              "3min",
		"RuntimeDirectory":         "hostnetd",
		"RuntimeDirectoryPreserve": "yes", // the restore marker outlives a restart
		"StateDirectory":           "hostnetd",
		"ProtectSystem":            "strict",
		"ReadWritePaths":           "-/etc/resolv.conf",
		"NoNewPrivileges":          "yes",
		"CapabilityBoundingSet":    "CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE",
		"RestrictAddressFamilies":  "AF_UNIX AF_NETLINK AF_INET AF_INET6 AF_PACKET",
		"Before":                   "network.target multi-user.target shutdown.target",
		"DefaultDependencies":      "no",
		"ExecReload":               "/bin/kill -HUP $MAINPID", // the credentials files, read again
	} {
		if unit[key] != want {
			t.Errorf("%s=%q; want %q", key, unit[key], want)
		}
	}
	// These would break hostnetd: read-only /proc/sys (IPv6 sysctls), no
	// /proc/sys at all, no network, no capabilities.
	for _, key := range []string{"ProtectKernelTunables", "ProcSubset", "PrivateNetwork", "PrivateUsers", "User"} {
		if v, ok := unit[key]; ok {
			t.Errorf("%s=%s is set; hostnetd cannot work with it", key, v)
		}
	}
	if !strings.HasPrefix(unit["ExecStart"], "/usr/local/sbin/hostnetd ") || strings.Contains(unit["ExecStart"], "--netns") {
		t.Errorf("ExecStart=%s; want /usr/local/sbin/hostnetd (make install rewrites it) managing its own namespace", unit["ExecStart"])
	}
}
