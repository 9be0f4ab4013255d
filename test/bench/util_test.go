//go:build bench

package bench

import (
	"io/fs"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// benchSizes parses $HOSTNETD_BENCH_N, a comma-separated list of sizes.
func benchSizes(t *testing.T) []int {
	t.Helper()
	spec := os.Getenv("HOSTNETD_BENCH_N")
	if spec == "" {
		spec = "100,300,1000"
	}
	var sizes []int
	for _, f := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > maxNetworks {
			t.Fatalf("HOSTNETD_BENCH_N=%q: want sizes from 1 to %d", spec, maxNetworks)
		}
		sizes = append(sizes, n)
	}
	return sizes
}

// outDir is where results go: $HOSTNETD_VM_OUT_DIR, which vmexec maps to a
// host directory, or a temporary directory.
func outDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("HOSTNETD_VM_OUT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	d, err := os.MkdirTemp("", "hostnetd-bench")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		dst := filepath.Join(to, rel)
		if e.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o600)
	})
	if err != nil {
		t.Fatalf("copying %s: %v", from, err)
	}
}

func readState(t *testing.T, ns *kernel.Namespace) *netconf.State {
	t.Helper()
	st, err := kernel.ReadState(ns)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func parseMAC(s string) (net.HardwareAddr, error) { return net.ParseMAC(s) }

// percentile is the nearest-rank percentile of the samples.
func percentile(samples []time.Duration, p float64) time.Duration {
	s := slices.Clone(samples)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func kernelRelease() string {
	data, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(data))
}

func cpuCount() int { return runtime.NumCPU() }
