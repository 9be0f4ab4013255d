package engine

import (
	"fmt"

	"github.com/hostnetd/hostnetd/netconf"
)

// persistentFile holds the configuration declared safe: what restore at
// boot brings back. The running configuration becomes persistent only by
// commit (commit_on_success, or commitnetconfig); a change never committed
// is undone by the next reboot.
const persistentFile = "persistent.json"

// loadPersistent reads the persistent configuration (statefiles.go); a
// damaged one without a good copy refuses the start: restoring anything
// else at boot would be a guess.
func (e *Engine) loadPersistent() (*netconf.Config, error) {
	cfg, found, err := loadStateFile(e.log, e.opts.StateDir, persistentFile, false, checkConfig)
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
func (e *Engine) commitPersistent() error {
	e.mu.RLock()
	running, persistent := e.running, e.persistent
	e.mu.RUnlock()
	if running.Equal(persistent) {
		return nil // already committed: nothing to write
	}
	data, err := encodeJSON(running)
	if err != nil {
		return err
	}
	if err := e.writeState(stateFile{persistentFile, data}); err != nil {
		return stateFault(err, false)
	}
	e.mu.Lock()
	e.persistent = running
	e.mu.Unlock()
	return nil
}

// configDirty reports whether the running configuration has changes that
// are not committed.
func (e *Engine) configDirty() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return !e.running.Equal(e.persistent)
}
