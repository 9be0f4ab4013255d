package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"

	"github.com/hostnetd/hostnetd/agent/internal/atomicfile"
	"github.com/hostnetd/hostnetd/netconf"
)

const hostIDFile = "host-id"

// loadHostID returns the host's id, creating it on first start. It lives in
// the state directory so that it survives restarts and reboots.
func loadHostID(stateDir string) (string, error) {
	path := filepath.Join(stateDir, hostIDFile)
	data, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(data))
		if _, perr := uuid.Parse(id); perr != nil {
			return "", fmt.Errorf("reading host id from %s: %q is not a UUID", path, id)
		}
		return id, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("reading host id: %w", err)
	}
	id := uuid.NewString()
	if err := atomicfile.Write(path, []byte(id+"\n"), 0o644); err != nil {
		return "", err
	}
	return id, nil
}

// NicID is the stable id of an interface: derived from the host id and the
// device name, so it is the same across restarts for as long as the device
// keeps its name.
func NicID(hostID, name string) string { return netconf.StableID(hostID + "/nic/" + name) }
