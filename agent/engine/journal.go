package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/agent/internal/atomicfile"
	"github.com/hostnetd/hostnetd/netconf"
)

const journalFile = "journal.json"

// journal is written before the first kernel write of a transaction and
// removed when it ends, committed or rolled back. Finding one at start
// means hostnetd died mid-transaction: the kernel is rolled back to the
// snapshot before anything is served.
type journal struct {
	// Version is journalVersion; a journal of another version is set
	// aside, never guessed at.
	Version int `json:"version"`
	Started time.Time
	// Next is the target being applied: what to remove if it was created.
	Next *netconf.Target
	// Snapshot is every device the transaction could touch, as it was.
	Snapshot *netconf.Target
	// Names are the devices whose routes are restored.
	Names []string
	// Before is the routing of the state read before the first write
	// (its routes and rules only: the devices are in Snapshot).
	Before *netconf.State
	// Commit is the stateDigest the state directory has once the change
	// is stored, or "" when the change stores nothing new. A journal
	// whose Commit matches the state directory belongs to a change that
	// was stored: hostnetd died between storing it and removing the
	// journal, and the change is kept, not rolled back.
	Commit string `json:",omitempty"`
	// Networks is the catalogue before a change that replaces it; rolling
	// the change back after a crash stores it again.
	Networks json.RawMessage `json:",omitempty"`
}

// journalVersion is the version of the journal's format.
const journalVersion = 1

func (e *Engine) journalPath() string { return filepath.Join(e.opts.StateDir, journalFile) }

func (e *Engine) writeJournal(j *journal) error {
	// Compact: it is written before every change and read only after a
	// crash.
	data, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("encoding the transaction journal: %w", err)
	}
	if err := e.stateHook("write", journalFile); err != nil {
		return &stateWriteError{err: fmt.Errorf("writing the transaction journal: %w", err)}
	}
	if err := atomicfile.Write(e.journalPath(), data, 0o600); err != nil {
		return &stateWriteError{err: fmt.Errorf("writing the transaction journal: %w", err)}
	}
	return nil
}

func (e *Engine) removeJournal() error {
	if err := os.Remove(e.journalPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing the transaction journal: %w", err)
	}
	if err := atomicfile.SyncDir(e.opts.StateDir); err != nil {
		return err
	}
	_ = e.stateHook("remove", journalFile)
	return nil
}

// recoverJournal rolls back a transaction interrupted by a crash. A journal
// that cannot be rolled back is set aside, loudly: it must never block the
// transactions that follow.
func (e *Engine) recoverJournal(ctx context.Context) error {
	data, err := os.ReadFile(e.journalPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var jp *journal
	if err == nil {
		if err = decodeStrict(data, &jp, false); err == nil {
			err = checkJournal(jp)
		}
	}
	if err != nil {
		// Nothing to roll back from: the host is left as it is, loudly.
		e.log.Error("the journal of an interrupted transaction is damaged; it cannot be rolled back", zap.Error(err))
		e.setAsideJournal(err)
		return nil
	}
	j := *jp
	if j.Commit != "" {
		digest, err := e.storedDigest()
		if err != nil {
			return fmt.Errorf("reading the state directory: %w", err)
		}
		if digest == j.Commit {
			// Stored, then interrupted before the journal went: the change
			// was verified and is what running.json says runs. Keep it.
			e.log.Warn("found the journal of a transaction that was stored before hostnetd stopped; keeping its change", zap.Time("started", j.Started))
			return e.removeJournal()
		}
	}
	e.log.Warn("found the journal of an interrupted transaction; rolling it back", zap.Time("started", j.Started))
	e.notify("STATUS=rolling back an interrupted transaction")
	if err := e.restoreSnapshot(ctx, &j); err != nil {
		e.log.Error("ROLLBACK OF THE INTERRUPTED TRANSACTION FAILED: the host may be half-configured", zap.Error(err))
		e.setAsideJournal(err)
		return nil
	}
	e.log.Info("the interrupted transaction was rolled back")
	if err := e.restoreNetworks(&j); err != nil {
		return err
	}
	return e.removeJournal()
}

func (e *Engine) setAsideJournal(cause error) {
	aside := e.journalPath() + ".failed-" + time.Now().UTC().Format("20060102T150405")
	if err := os.Rename(e.journalPath(), aside); err != nil {
		e.log.Error("cannot set the journal aside", zap.Error(err), zap.NamedError("cause", cause))
		return
	}
	e.log.Error("journal set aside", zap.String("path", aside), zap.NamedError("cause", cause))
}

// restoreNetworks stores again the catalogue a rolled-back journal
// replaced, if it was replaced before the crash (the catalogue is stored
// before running.json).
func (e *Engine) restoreNetworks(j *journal) error {
	if len(j.Networks) == 0 {
		return nil
	}
	disk, err := e.readStateFile(networksFile)
	if err != nil {
		return fmt.Errorf("reading the network catalogue: %w", err)
	}
	if bytes.Equal(disk, j.Networks) {
		return nil
	}
	var nets []*netconf.Network
	if err := json.Unmarshal(j.Networks, &nets); err != nil {
		return fmt.Errorf("the journal's catalogue: %w", err)
	}
	if err := e.writeState(stateFile{networksFile, j.Networks}); err != nil {
		return err
	}
	e.mu.Lock()
	e.networks = nets
	e.mu.Unlock()
	e.log.Warn("the network catalogue of the interrupted transaction was put back")
	return nil
}
