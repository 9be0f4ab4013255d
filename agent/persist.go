package agent

import (
	"fmt"
	"net/http"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/xmlapi"
)

// persistentFile holds the configuration declared safe: what restore at
// boot brings back. The running configuration becomes persistent only by
// commit (commit_on_success, or commitnetconfig); a change never committed
// is undone by the next reboot.
const persistentFile = "persistent.json"

// loadPersistent reads the persistent configuration (statefiles.go); a
// damaged one without a good copy refuses the start: restoring anything
// else at boot would be a guess.
func (a *Agent) loadPersistent() (*netconf.Config, error) {
	cfg, found, err := loadStateFile(a.log, a.opts.StateDir, persistentFile, false, checkConfig)
	if err != nil {
		return nil, fmt.Errorf("refusing to start: %w; restore the file from a backup, or remove it to restore nothing at boot", err)
	}
	if !found {
		return &netconf.Config{}, nil
	}
	return cfg, nil
}

// commitPersistent copies the running configuration to the persistent one.
// The caller holds the writer slot.
func (a *Agent) commitPersistent() error {
	a.mu.RLock()
	running, persistent := a.running, a.persistent
	a.mu.RUnlock()
	if running.Equal(persistent) {
		return nil // already committed: nothing to write
	}
	data, err := encodeJSON(running)
	if err != nil {
		return err
	}
	if err := a.writeState(stateFile{persistentFile, data}); err != nil {
		return stateFault(err, false)
	}
	a.mu.Lock()
	a.persistent = running
	a.mu.Unlock()
	return nil
}

// configDirty reports whether the running configuration has changes that
// are not committed.
func (a *Agent) configDirty() bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return !a.running.Equal(a.persistent)
}

// commitNetConfig is POST /hosts/{id}/commitnetconfig.
func (a *Agent) commitNetConfig(r *request) (response, error) {
	if err := a.checkHost(r); err != nil {
		return response{}, err
	}
	unlock, err := a.lockWriter(r.Context())
	if err != nil {
		return response{}, err
	}
	defer unlock()
	if err := a.commitPersistent(); err != nil {
		return response{}, err
	}
	return response{status: http.StatusOK, doc: xmlapi.ActionStatus(a.ctx(), "complete")}, nil
}
