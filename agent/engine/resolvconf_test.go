package engine

import (
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/hostnetd/hostnetd/test/nstest"
)

// TestResolvConfRewrittenInPlaceWhenOnlyTheFileIsWritable reproduces what
// the unit does to /etc (ProtectSystem=strict, ReadWritePaths= on the file
// alone) in a private mount namespace of one thread: the directory is
// read-only and the file a writable bind mount. The atomic rename cannot
// work there; the rewrite in place must.
func TestResolvConfRewrittenInPlaceWhenOnlyTheFileIsWritable(t *testing.T) {
	nstest.RequireRoot(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "resolv.conf")
	old := "nameserver 198.51.100.53\nnameserver 198.51.100.54\nsearch example.org a-long-tail-that-must-go.example.net\n"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	next := withNameservers(old, []string{"192.0.2.53"})
	type result struct{ atomicErr, err error }
	done := make(chan result, 1)
	go func() {
		// The thread is never unlocked: it dies with the goroutine, and its
		// mount namespace with it.
		runtime.LockOSThread()
		var r result
		defer func() { done <- r }()
		for _, step := range []func() error{
			func() error { return unix.Unshare(unix.CLONE_NEWNS) },
			func() error { return unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, "") },
			func() error { return unix.Mount(dir, dir, "", unix.MS_BIND, "") },
			func() error { return unix.Mount("", dir, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, "") },
			func() error { return unix.Mount(path, path, "", unix.MS_BIND, "") },
			func() error { return unix.Mount("", path, "", unix.MS_BIND|unix.MS_REMOUNT, "") },
		} {
			if r.err = step(); r.err != nil {
				return
			}
		}
		// Sanity: the situation is the unit's (no temporary file in the
		// directory, so no rename).
		if f, err := os.CreateTemp(dir, "probe"); err == nil {
			f.Close()
			r.atomicErr = os.ErrExist
		} else if !isErrno(err, syscall.EROFS) {
			r.atomicErr = err
		}
		r.err = writeResolvConf(path, []byte(next))
	}()
	r := <-done
	if r.atomicErr != nil {
		t.Fatalf("the directory is not read-only in the test's mount namespace: %v", r.atomicErr)
	}
	if r.err != nil {
		t.Fatalf("writeResolvConf: %v", r.err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != next {
		t.Errorf("resolv.conf:\n%s\nwant:\n%s", data, next)
	}
}

func isErrno(err error, errno syscall.Errno) bool {
	pe, ok := err.(*os.PathError)
	return ok && pe.Err == errno
}
