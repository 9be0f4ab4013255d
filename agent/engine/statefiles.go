package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/netconf"
)

// Reading the state files. Each is decoded strictly — one JSON value, no
// unknown field, nothing after it — and checked (no null network, every
// attachment with its id, network and NIC, a journal with its snapshot), so
// that a damaged file is refused with its name and the reason, never
// half-read and never a panic. Every replacement keeps the file it
// replaces as FILE.prev (atomicfile), the last good copy: a damaged file is
// set aside as FILE.damaged-TIME and the last good copy is used instead,
// loudly. What happens when there is none depends on the file (see
// loadStoredState and loadPersistent).

// errNoGoodCopy says a state file and its last good copy are both missing
// or damaged.
var errNoGoodCopy = errors.New("no good copy")

// decodeStrict decodes data into v: exactly one JSON value, no field v
// does not have, no trailing data, and not null unless nullOK.
func decodeStrict(data []byte, v any, nullOK bool) error {
	if t := bytes.TrimSpace(data); len(t) == 0 {
		return errors.New("the file is empty")
	} else if !nullOK && bytes.Equal(t, []byte("null")) {
		return errors.New("the file holds null")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON value")
	}
	return nil
}

// loadStateFile decodes the state file name into a fresh value made by
// fresh and checks it; if the file is damaged it is set aside and its
// last good copy (name.prev) is used, and put back in its place. found is
// false when the file does not exist (its copy is then not used: a file
// removed by hand is meant to be gone). A damaged file without a good copy is
// errNoGoodCopy, wrapped with the reason.
func loadStateFile[T any](log *zap.Logger, dir, name string, nullOK bool, check func(T) error) (v T, found bool, err error) {
	path := filepath.Join(dir, name)
	read := func(p string) (T, bool, error) {
		var v T
		data, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			return v, false, nil
		}
		if err != nil {
			return v, false, err
		}
		if err := decodeStrict(data, &v, nullOK); err != nil {
			return v, true, err
		}
		return v, true, check(v)
	}
	v, found, err = read(path)
	if err == nil {
		return v, found, nil // (a file removed by hand is not there: its copy is not used)
	}
	damaged := err
	aside := path + ".damaged-" + time.Now().UTC().Format("20060102T150405")
	if rerr := os.Rename(path, aside); rerr != nil {
		log.Error("cannot set a damaged state file aside", zap.String("file", path), zap.Error(rerr))
	} else {
		log.Error("state file damaged; set aside", zap.String("file", path), zap.String("aside", aside), zap.Error(damaged))
	}
	prev, prevFound, perr := read(path + ".prev")
	switch {
	case prevFound && perr == nil:
		log.Error("using the last good copy of a damaged state file", zap.String("file", path), zap.String("copy", path+".prev"))
		// It becomes the file again, so that the next start reads it too.
		if err := os.Link(path+".prev", path); err != nil {
			return v, false, fmt.Errorf("putting back the last good copy of %s: %w", path, err)
		}
		return prev, true, nil
	case prevFound:
		return v, false, fmt.Errorf("%s is damaged (%v) and so is its last good copy (%v): %w", path, damaged, perr, errNoGoodCopy)
	default:
		return v, false, fmt.Errorf("%s is damaged (%v) and there is no last good copy: %w", path, damaged, errNoGoodCopy)
	}
}

// checkNetworks refuses a catalogue with a null network, one without an
// id or a name, or two of one id.
func checkNetworks(nets []*netconf.Network) error {
	ids := map[string]bool{}
	for i, n := range nets {
		switch {
		case n == nil:
			return fmt.Errorf("network %d is null", i)
		case n.ID == "" || n.Name == "":
			return fmt.Errorf("network %d has no id or no name", i)
		case ids[n.ID]:
			return fmt.Errorf("network id %s is there twice", n.ID)
		}
		ids[n.ID] = true
	}
	return nil
}

// checkConfig refuses a configuration whose attachments lack an id, a
// network or a NIC, or whose bonds lack a name.
func checkConfig(cfg *netconf.Config) error {
	if cfg == nil {
		return errors.New("the configuration is null")
	}
	for i, at := range cfg.Attachments {
		if at.ID == "" || at.NetworkID == "" || at.Nic == "" {
			return fmt.Errorf("attachment %d lacks its id, network or NIC", i)
		}
	}
	for i, b := range cfg.Bonds {
		if b.Name == "" {
			return fmt.Errorf("bond %d has no name", i)
		}
	}
	return nil
}

// checkJournal refuses a journal without the snapshot it rolls back to.
func checkJournal(j *journal) error {
	switch {
	case j == nil:
		return errors.New("the journal is null")
	case j.Version != 0 && j.Version != journalVersion:
		return fmt.Errorf("journal version %d; this hostnetd reads %d", j.Version, journalVersion)
	case j.Next == nil || j.Snapshot == nil || j.Before == nil:
		return errors.New("the journal lacks its target, snapshot or routing")
	}
	return nil
}
