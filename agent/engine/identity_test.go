package engine

import (
	"testing"
)

func TestHostIDSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	first, err := loadHostID(dir)
	if err != nil {
		t.Fatal(err)
	}
	second, err := loadHostID(dir)
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Errorf("host id changed across loads: %s then %s", first, second)
	}
	other, err := loadHostID(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if other == first {
		t.Error("two state directories share a host id")
	}
}

func TestNicIDIsStablePerHostAndName(t *testing.T) {
	first, second := NicID("h1", "eth0"), NicID("h1", "eth0")
	if first != second {
		t.Error("nic id is not deterministic")
	}
	if NicID("h1", "eth0") == NicID("h1", "eth1") || NicID("h1", "eth0") == NicID("h2", "eth0") {
		t.Error("nic ids collide")
	}
}
