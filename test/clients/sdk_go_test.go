//go:build clients

package clients

import (
	"strings"
	"testing"
	"time"
)

// TestSDK runs sdk_test.py, oVirt's Python SDK against a hostnetd on its
// own sandbox, through the recorder (contract fixture sdk.json).
func TestSDK(t *testing.T) {
	d := startDaemon(t, daemonConfig{sandbox: "hnc-sdk", hostName: "sdk-host", loopback: "127.0.0.81", probe: true,
		hostID: "5dd1e0c8-2b8a-4c39-9d7e-0f3b1e6a5d01"})
	rec := startRecorder(t, d)
	out, err := runClient(t, 10*time.Minute, []string{
		"HOSTNETD_URL=" + rec.URL(), "HOSTNETD_USER=" + user, "HOSTNETD_PASSWORD=" + password,
		"HOSTNETD_HOST_NAME=" + d.hostName, "HOSTNETD_NS=" + d.name,
	}, "/usr/bin/python3", "-m", "unittest", "-v", "sdk_test.py")
	t.Logf("python3 -m unittest sdk_test.py:\n%s", out)
	if err != nil {
		t.Fatalf("the SDK suite failed: %v", err)
	}
	if !strings.Contains(out, "\nOK") {
		t.Fatal("the SDK suite did not end with OK")
	}
	rec.save(t, "sdk", "ovirtsdk4 4.6.3")
}
