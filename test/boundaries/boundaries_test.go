// Package boundaries enforces the import direction cmd → agent → xmlapi,
// netconf: xmlapi never reaches netlink, netconf never reaches XML or
// HTTP, and hostnetctl reaches neither the daemon nor netlink.
package boundaries

import (
	"os/exec"
	"strings"
	"testing"
)

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func TestImportBoundaries(t *testing.T) {
	const mod = "github.com/hostnetd/hostnetd/"
	tests := []struct {
		pkg       string
		forbidden []string
	}{
		{mod + "xmlapi", []string{"github.com/vishvananda/netlink", "github.com/vishvananda/netns", mod + "netconf/kernel", "net/http", mod + "agent"}},
		{mod + "netconf", []string{"github.com/vishvananda/netlink", "github.com/beevik/etree", "net/http", mod + "xmlapi", mod + "agent"}},
		{mod + "netconf/kernel", []string{"github.com/beevik/etree", "net/http", mod + "xmlapi", mod + "agent"}},
		// The CLI is a client: it speaks HTTP to the daemon, never netlink.
		{mod + "cmd/hostnetctl", []string{mod + "agent", mod + "netconf/kernel", "github.com/vishvananda/netlink", "github.com/vishvananda/netns"}},
	}
	for _, tt := range tests {
		for _, d := range deps(t, tt.pkg) {
			for _, f := range tt.forbidden {
				if d == f {
					t.Errorf("%s depends on %s", tt.pkg, f)
				}
			}
		}
	}
}
