package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// built are the binaries built by this test run, by package.
var built sync.Map // string → *build

type build struct {
	once sync.Once
	path string
	err  error
}

// binary is $env (make builds the binaries once, and a build under the
// VM's emulation would take minutes), or the command pkg (below the
// module) built once per test run.
func binary(t *testing.T, env, pkg string) string {
	t.Helper()
	if b := os.Getenv(env); b != "" {
		return b
	}
	v, _ := built.LoadOrStore(pkg, &build{})
	b := v.(*build)
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "hostnetd-bin")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, filepath.Base(pkg))
		out, err := exec.Command("go", "build", "-o", b.path, "github.com/hostnetd/hostnetd/"+pkg).CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func hostnetdBinary(t *testing.T) string   { return binary(t, "HOSTNETD_BINARY", "cmd/hostnetd") }
func hostnetctlBinary(t *testing.T) string { return binary(t, "HOSTNETD_CTL_BINARY", "cmd/hostnetctl") }
