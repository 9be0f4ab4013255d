package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// stateLockFile, in the state directory, carries the exclusive lock of
// the daemon that uses the directory, and its pid for the message a
// second one prints.
const stateLockFile = "lock"

// StateLock is the exclusive hold of a state directory: two daemons
// sharing one would overwrite each other's files. The kernel releases it
// when the process dies, however it dies.
type StateLock struct {
	f *os.File
}

// LockStateDir creates dir if needed and takes its lock, without waiting:
// a directory another hostnetd holds is refused with its pid.
func LockStateDir(dir string) (*StateLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the state directory: %w", err)
	}
	path := filepath.Join(dir, stateLockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the state directory's lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			holder := "another process"
			if data, rerr := os.ReadFile(path); rerr == nil && strings.TrimSpace(string(data)) != "" {
				holder = "pid " + strings.TrimSpace(string(data))
			}
			return nil, fmt.Errorf("the state directory %s is in use by another hostnetd (%s); two daemons must not share one", dir, holder)
		}
		return nil, fmt.Errorf("locking the state directory %s: %w", dir, err)
	}
	// The pid is for the message above only; the lock is the flock.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(fmt.Sprintf("%d\n", os.Getpid())), 0)
	}
	return &StateLock{f: f}, nil
}

// Release gives the directory up. It is safe to call more than once.
func (l *StateLock) Release() {
	if l != nil && l.f != nil {
		l.f.Close() // closing the last descriptor drops the flock
		l.f = nil
	}
}
