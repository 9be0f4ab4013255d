package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hostnetd/hostnetd/agent/internal/atomicfile"
	"github.com/hostnetd/hostnetd/netconf"
)

// The files of the state directory. Each is replaced atomically as a whole.
const (
	networksFile = "networks.json" // the network catalogue
	runningFile  = "running.json"  // the configuration hostnetd runs
)

// storedState is what the state directory holds besides the host id.
type storedState struct {
	Networks []*netconf.Network
	Running  *netconf.Config
}

func loadJSON(path string, v any) (bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("reading %s: %w", path, err)
	}
	return true, nil
}

func saveJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	return atomicfile.Write(path, append(data, '\n'), 0o600)
}

func loadStoredState(dir string) (*storedState, error) {
	st := &storedState{Running: &netconf.Config{}}
	if _, err := loadJSON(filepath.Join(dir, networksFile), &st.Networks); err != nil {
		return nil, err
	}
	if _, err := loadJSON(filepath.Join(dir, runningFile), st.Running); err != nil {
		return nil, err
	}
	return st, nil
}

func (a *Agent) saveNetworks(nets []*netconf.Network) error {
	return saveJSON(filepath.Join(a.opts.StateDir, networksFile), nets)
}

func (a *Agent) saveRunning(cfg *netconf.Config) error {
	return saveJSON(filepath.Join(a.opts.StateDir, runningFile), cfg)
}
