// Package atomicfile replaces files so that a crash leaves either the old
// or the new content, never a mix: the daemon's stores, the transaction
// journal and the DHCP lease files all go through it.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write replaces path with data: temporary file in the same directory,
// fsync, rename, fsync of the directory.
func Write(path string, data []byte, perm os.FileMode) error {
	p, err := Prepare(path, data, perm)
	if err != nil {
		return err
	}
	defer p.Discard()
	return p.Commit()
}

// Pending is a replacement written and synced to a temporary file but not
// yet renamed over its path: writing, which can fail for want of space,
// is done, and only the rename, which needs none, is left. A caller that
// replaces several files writes them all first, so that a full disk
// leaves every one of them as it was.
type Pending struct {
	path, tmp string
}

// Prepare writes data to a temporary file beside path and syncs it.
func Prepare(path string, data []byte, perm os.FileMode) (*Pending, error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	fail := func(format string, err error) (*Pending, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf(format, path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail("writing %s: %w", err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return fail("writing %s: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fail("syncing %s: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return &Pending{path: path, tmp: tmp.Name()}, nil
}

// Path is the file the replacement is for.
func (p *Pending) Path() string { return p.path }

// Commit renames the temporary file over its path and syncs the directory.
func (p *Pending) Commit() error {
	if p.tmp == "" {
		return fmt.Errorf("replacing %s: already committed or discarded", p.path)
	}
	if err := os.Rename(p.tmp, p.path); err != nil {
		return fmt.Errorf("replacing %s: %w", p.path, err)
	}
	p.tmp = ""
	return SyncDir(filepath.Dir(p.path))
}

// CommitKeepingPrevious is Commit that first keeps the file it replaces,
// if any, as path.prev (a hard link: the old content, which nothing
// writes again): the last good copy, should the new one be damaged later.
func (p *Pending) CommitKeepingPrevious() error {
	prev := p.path + ".prev"
	if err := os.Remove(prev); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("replacing %s: %w", prev, err)
	}
	if err := os.Link(p.path, prev); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("keeping %s: %w", prev, err)
	}
	return p.Commit()
}

// Discard removes the temporary file of a replacement not committed; it is
// a no-op after Commit.
func (p *Pending) Discard() {
	if p.tmp != "" {
		os.Remove(p.tmp)
		p.tmp = ""
	}
}

// SyncDir makes a directory's entries (a rename, a removal) durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}
