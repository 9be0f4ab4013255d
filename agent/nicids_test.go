package agent

import (
	"testing"

	"github.com/hostnetd/hostnetd/agent/engine"
)

// TestNicIDsAreTheEngines: the remembered ids are the engine's, also after
// the table starts over.
func TestNicIDsAreTheEngines(t *testing.T) {
	c := newNicIDs("host")
	for range 2 {
		for _, name := range []string{"eth0", "bond0", "bond0.100"} {
			if got, want := c.id(name), engine.NicID("host", name); got != want {
				t.Errorf("id(%s) = %s; want %s", name, got, want)
			}
		}
	}
	for i := range maxNicIDs + 1 {
		c.id(string(rune('a'+i%26)) + string(rune(i)))
	}
	if len(c.ids) > maxNicIDs {
		t.Errorf("%d ids kept; want at most %d", len(c.ids), maxNicIDs)
	}
	if got, want := c.id("eth0"), engine.NicID("host", "eth0"); got != want {
		t.Errorf("after starting over id(eth0) = %s; want %s", got, want)
	}
}
