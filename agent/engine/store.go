package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/agent/internal/atomicfile"
	"github.com/hostnetd/hostnetd/netconf"
)

// The files of the state directory. Each is replaced atomically as a whole.
const (
	networksFile = "networks.json" // the network catalogue
	runningFile  = "running.json"  // the configuration hostnetd runs
)

// CodeStateWriteFailed answers a write whose new state could not be stored
// (a full or failing state disk): the kernel was rolled back and nothing
// of the change was kept.
const CodeStateWriteFailed = "STATE_WRITE_FAILED"

// storedState is what the state directory holds besides the host id.
type storedState struct {
	Networks []*netconf.Network
	Running  *netconf.Config
	// runningLost says running.json was damaged beyond its last good copy.
	runningLost bool
}

func encodeJSON(v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// loadStoredState reads the catalogue and the running configuration
// (statefiles.go). A damaged catalogue without a good copy refuses the
// start: nothing can be served without it. A damaged running
// configuration without a good copy is replaced by the persistent one,
// and restore runs again (runningLost).
func loadStoredState(log *zap.Logger, dir string) (*storedState, error) {
	st := &storedState{Running: &netconf.Config{}}
	nets, _, err := loadStateFile(log, dir, networksFile, true, checkNetworks)
	if err != nil {
		return nil, fmt.Errorf("refusing to start: %w; restore the file from a backup, or remove it to start with no networks", err)
	}
	st.Networks = nets
	running, found, err := loadStateFile(log, dir, runningFile, false, checkConfig)
	switch {
	case errors.Is(err, errNoGoodCopy):
		log.Error("the running configuration is lost; the persistent one is restored instead", zap.Error(err))
		st.runningLost = true
	case err != nil:
		return nil, err
	case found:
		st.Running = running
	}
	return st, nil
}

// stateFile is the new content of one file of the state directory.
type stateFile struct {
	name string
	data []byte
}

// stateWriteError is a failure to store state; the transaction that made
// it is rolled back, and it answers CodeStateWriteFailed. replaced are the
// files already renamed over their old selves when it failed (a rename
// failing after another succeeded: not a full disk, which fails a write
// before any rename).
type stateWriteError struct {
	err      error
	replaced []string
}

func (e *stateWriteError) Error() string { return e.err.Error() }
func (e *stateWriteError) Unwrap() error { return e.err }

// stateFault is the answer to a change whose state could not be stored.
func stateFault(err error, rolledBack bool) *Error {
	what := "nothing was changed"
	if rolledBack {
		what = "the change was rolled back"
	}
	return newError(StateWriteFailed, CodeStateWriteFailed, "Operation Failed",
		"cannot store the network configuration in the state directory (%v); %s", err, what)
}

// writeState replaces files of the state directory, in order. Every file
// is written and synced first; only when all are on disk are they renamed
// over the old ones, one after the other. A failure to write (ENOSPC, EIO)
// therefore leaves every file as it was.
func (e *Engine) writeState(files ...stateFile) error {
	pending := make([]*atomicfile.Pending, 0, len(files))
	defer func() {
		for _, p := range pending {
			p.Discard()
		}
	}()
	for _, f := range files {
		if err := e.stateHook("write", f.name); err != nil {
			return &stateWriteError{err: fmt.Errorf("writing %s: %w", filepath.Join(e.opts.StateDir, f.name), err)}
		}
		p, err := atomicfile.Prepare(filepath.Join(e.opts.StateDir, f.name), f.data, 0o600)
		if err != nil {
			return &stateWriteError{err: err}
		}
		pending = append(pending, p)
	}
	var replaced []string
	for i, p := range pending {
		err := e.stateHook("rename", files[i].name)
		if err == nil {
			err = p.CommitKeepingPrevious()
		}
		if err != nil {
			return &stateWriteError{err: err, replaced: replaced}
		}
		replaced = append(replaced, files[i].name)
		_ = e.stateHook("replace", files[i].name)
	}
	return nil
}

// stateHook runs the Options.StateHook test hook, if set.
func (e *Engine) stateHook(op, name string) error {
	if e.opts.StateHook == nil {
		return nil
	}
	return e.opts.StateHook(op, name)
}

// readStateFile is the content of a state file; a missing one is empty.
func (e *Engine) readStateFile(name string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(e.opts.StateDir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

// stateDigest identifies the committed configuration: the catalogue and
// the running configuration, as stored.
func stateDigest(networks, running []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\n", len(networks))
	h.Write(networks)
	h.Write(running)
	return hex.EncodeToString(h.Sum(nil))
}

// storedDigest is the stateDigest of the files as they are on disk.
func (e *Engine) storedDigest() (string, error) {
	nets, err := e.readStateFile(networksFile)
	if err != nil {
		return "", err
	}
	running, err := e.readStateFile(runningFile)
	if err != nil {
		return "", err
	}
	return stateDigest(nets, running), nil
}

// stateCommit is the state a transaction stores once its change is
// verified: the files to replace, and the configuration to publish.
type stateCommit struct {
	files   []stateFile
	cfg     *netconf.Config
	nets    []*netconf.Network // nil: the catalogue is unchanged
	persist bool               // the persistent configuration becomes cfg too
	// digest is the stateDigest the state directory has once the commit
	// is stored, or "" when the commit changes neither the catalogue nor
	// the running configuration: then a journal is always rolled back.
	digest string
	// oldNetworks is the catalogue before, stored to be put back when the
	// change is rolled back after a crash (nil when it is unchanged).
	oldNetworks json.RawMessage
}

// prepareCommit encodes the state a change stores, writing nothing.
// The order of the files is the order of the renames: the catalogue, then
// the running configuration (the commit point: a journal found at start is
// rolled back unless running.json already holds its change), then the
// persistent configuration.
func (e *Engine) prepareCommit(cfg *netconf.Config, nets []*netconf.Network, persist bool) (*stateCommit, error) {
	oldNets, running := e.snapshot()
	c := &stateCommit{cfg: cfg, nets: nets}
	// The stored files are read only when one of them is rewritten: a
	// request that changes neither the catalogue nor the running
	// configuration (the no-op re-apply) leaves the digest as it is.
	if nets != nil || !running.Equal(cfg) {
		if err := c.prepareRunning(e, oldNets); err != nil {
			return nil, err
		}
	}
	e.mu.RLock()
	persistent := e.persistent
	e.mu.RUnlock()
	if persist && !cfg.Equal(persistent) {
		data, err := encodeJSON(cfg)
		if err != nil {
			return nil, err
		}
		c.files = append(c.files, stateFile{persistentFile, data})
		c.persist = true
	}
	return c, nil
}

// prepareRunning adds the catalogue (when c changes it) and the running
// configuration to the files c writes, and sets its digest when what is
// stored changes.
func (c *stateCommit) prepareRunning(e *Engine, oldNets []*netconf.Network) error {
	diskNets, err := e.readStateFile(networksFile)
	if err != nil {
		return &stateWriteError{err: err}
	}
	diskRunning, err := e.readStateFile(runningFile)
	if err != nil {
		return &stateWriteError{err: err}
	}
	newNets := diskNets
	if c.nets != nil {
		if newNets, err = encodeJSON(c.nets); err != nil {
			return err
		}
		if c.oldNetworks, err = encodeJSON(oldNets); err != nil {
			return err
		}
		c.files = append(c.files, stateFile{networksFile, newNets})
	}
	newRunning, err := encodeJSON(c.cfg)
	if err != nil {
		return err
	}
	c.files = append(c.files, stateFile{runningFile, newRunning})
	if !bytes.Equal(newNets, diskNets) || !bytes.Equal(newRunning, diskRunning) {
		c.digest = stateDigest(newNets, newRunning)
	}
	return nil
}

// commitState stores a prepared commit, then publishes it to readers.
func (e *Engine) commitState(c *stateCommit) error {
	if len(c.files) == 0 {
		return nil // a request that changed nothing writes nothing
	}
	if err := e.writeState(c.files...); err != nil {
		var we *stateWriteError
		if !errors.As(err, &we) || !slices.Contains(we.replaced, runningFile) {
			return err
		}
		// Past the commit point: running.json holds the change, which
		// stands (a restart would keep it); only what follows it, the
		// persistent configuration, is not stored.
		e.mu.Lock()
		e.running = c.cfg
		if c.nets != nil {
			e.networks = c.nets
		}
		e.mu.Unlock()
		return &notPersistedError{err: we.err}
	}
	e.mu.Lock()
	e.running = c.cfg
	if c.nets != nil {
		e.networks = c.nets
	}
	if c.persist {
		e.persistent = c.cfg
	}
	e.mu.Unlock()
	return nil
}

// notPersistedError says a change was stored as running (past the commit
// point) but could not be made persistent.
type notPersistedError struct{ err error }

func (e *notPersistedError) Error() string { return e.err.Error() }
func (e *notPersistedError) Unwrap() error { return e.err }

func notPersistedFault(err error) *Error {
	return newError(StateWriteFailed, CodeStateWriteFailed, "Operation Failed",
		"the change is applied and stored as the running configuration, but storing it as the persistent one failed (%v); commit it again with commitnetconfig", err)
}

// commitRunning stores and publishes a new running configuration (and
// catalogue) outside a kernel transaction.
func (e *Engine) commitRunning(cfg *netconf.Config, nets []*netconf.Network) error {
	c, err := e.prepareCommit(cfg, nets, false)
	if err == nil {
		err = e.commitState(c)
	}
	var np *notPersistedError
	if errors.As(err, &np) {
		return notPersistedFault(np.err)
	}
	var we *stateWriteError
	if errors.As(err, &we) {
		return stateFault(we, false)
	}
	return err
}
