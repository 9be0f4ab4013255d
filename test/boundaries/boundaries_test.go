// Package boundaries enforces the import direction cmd → agent →
// agent/engine, xmlapi → netconf: xmlapi never reaches netlink, netconf
// never reaches XML or HTTP, the engine neither XML nor HTTP, the agent
// reaches the kernel, stores and DHCP only through the engine, and
// hostnetctl reaches neither the daemon nor netlink; and that
// netconf/kernel is the one door to netlink.
package boundaries

import (
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func TestImportBoundaries(t *testing.T) {
	const mod = "github.com/hostnetd/hostnetd/"
	tests := []struct {
		pkg       string
		forbidden []string
	}{
		{mod + "xmlapi", []string{"github.com/vishvananda/netlink", "github.com/vishvananda/netns", mod + "netconf/kernel", "net/http", mod + "agent"}},
		{mod + "netconf", []string{"github.com/vishvananda/netlink", "github.com/beevik/etree", "net/http", mod + "xmlapi", mod + "agent"}},
		{mod + "netconf/kernel", []string{"github.com/beevik/etree", "net/http", mod + "xmlapi", mod + "agent"}},
		// The CLI is a client: it speaks HTTP to the daemon, never netlink.
		{mod + "cmd/hostnetctl", []string{mod + "agent", mod + "netconf/kernel", "github.com/vishvananda/netlink", "github.com/vishvananda/netns"}},
		// The engine knows nothing of XML (nor of HTTP: see
		// TestEngineKnowsNoHTTP): the agent translates.
		{mod + "agent/engine", []string{"github.com/beevik/etree", mod + "xmlapi", mod + "agent"}},
	}
	for _, tt := range tests {
		for _, d := range deps(t, tt.pkg) {
			for _, f := range tt.forbidden {
				if d == f {
					t.Errorf("%s depends on %s", tt.pkg, f)
				}
			}
		}
	}
}

// netlinkDoor is the one package through which the daemon reaches netlink
// (issue 16): there, every dump is retried when the kernel interrupts it
// and every request goes to the namespace's own handle.
const netlinkDoor = "github.com/hostnetd/hostnetd/netconf/kernel"

// netlinkHelpers are the test helper packages that build test topologies
// with netlink directly; only tests and other helpers may import them
// (TestOneDoorToNetlink checks that too, or they would be a way round the
// door).
var netlinkHelpers = []string{
	"github.com/hostnetd/hostnetd/test/nstest",
	"github.com/hostnetd/hostnetd/agent/internal/dhcptest",
}

// isNetlink says whether an import path is the netlink library or its
// namespace companion.
func isNetlink(path string) bool {
	for _, p := range []string{"github.com/vishvananda/netlink", "github.com/vishvananda/netns"} {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// modulePackages lists every package of the module with its non-test
// imports, so that a package added later is covered without being named
// here.
func modulePackages(t *testing.T) map[string][]string {
	t.Helper()
	pkgs := map[string][]string{}
	for _, l := range goList(t, "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", "github.com/hostnetd/hostnetd/...") {
		if f := strings.Fields(l); len(f) > 0 {
			pkgs[f[0]] = f[1:]
		}
	}
	return pkgs
}

// TestOneDoorToNetlink checks that no package of the module but
// netconf/kernel (and the test helpers) imports netlink or netns in its
// non-test files, nor a test helper. Tests may: they build topologies.
func TestOneDoorToNetlink(t *testing.T) {
	pkgs := modulePackages(t)
	// The list must be the module's, or the test checks nothing.
	for _, p := range append([]string{netlinkDoor, "github.com/hostnetd/hostnetd/agent/dhcp6"}, netlinkHelpers...) {
		if _, ok := pkgs[p]; !ok {
			t.Fatalf("go list did not list %s; a stale exemption or a broken listing", p)
		}
	}
	for pkg, imports := range pkgs {
		if pkg == netlinkDoor || slices.Contains(netlinkHelpers, pkg) {
			continue
		}
		for _, imp := range imports {
			if isNetlink(imp) {
				t.Errorf("%s imports %s: only %s may; use its API (add what is missing there)", pkg, imp, netlinkDoor)
			}
			// A helper of the helpers (it imports testing) may.
			if slices.Contains(netlinkHelpers, imp) && !slices.Contains(imports, "testing") {
				t.Errorf("%s imports the test helper %s outside its tests", pkg, imp)
			}
		}
	}
}

// TestNetlinkOnlyThroughKernel closes the door's other way in: a package
// that does not import netlink can still call it, through the exported
// Handle of a kernel.Namespace (which tests use to build topologies) or a
// netlink value a helper returns, and no import shows it. So the non-test
// files of every package of the module but netconf/kernel (and the test
// helpers) are type-checked, and none may use anything of netlink (a
// function, method, field or constant) or hold a value of its types.
func TestNetlinkOnlyThroughKernel(t *testing.T) {
	const all = "github.com/hostnetd/hostnetd/..."
	// The compiler's export data of everything the non-test files
	// import, to type-check each package against.
	exports := map[string]string{}
	for _, l := range goList(t, "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}", all) {
		if path, file, ok := strings.Cut(l, "\t"); ok && file != "" {
			exports[path] = file
		}
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	})
	checked := 0
	for _, l := range goList(t, "-f", "{{.ImportPath}}\t{{.Dir}}\t{{join .GoFiles \"\\t\"}}", all) {
		f := strings.Split(l, "\t")
		pkg, dir, names := f[0], f[1], f[2:]
		if pkg == netlinkDoor || slices.Contains(netlinkHelpers, pkg) || len(names) == 0 || names[0] == "" {
			continue
		}
		var files []*ast.File
		for _, name := range names {
			file, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatalf("parsing: %v", err)
			}
			files = append(files, file)
		}
		info := &types.Info{Uses: map[*ast.Ident]types.Object{}, Types: map[ast.Expr]types.TypeAndValue{}}
		if _, err := (&types.Config{Importer: imp}).Check(pkg, fset, files, info); err != nil {
			t.Fatalf("type-checking %s: %v", pkg, err)
		}
		checked++
		found := map[string]string{} // by position: a line is reported once
		for id, obj := range info.Uses {
			if obj.Pkg() != nil && isNetlink(obj.Pkg().Path()) {
				found[fset.Position(id.Pos()).String()] = obj.Pkg().Name() + "." + obj.Name()
			}
		}
		for e, tv := range info.Types {
			if name := netlinkType(tv.Type); name != "" {
				pos := fset.Position(e.Pos()).String()
				if _, ok := found[pos]; !ok {
					found[pos] = "a value of " + name
				}
			}
		}
		for _, pos := range slices.Sorted(maps.Keys(found)) {
			t.Errorf("%s: %s uses %s: only %s may; use its API (add what is missing there)", pos, pkg, found[pos], netlinkDoor)
		}
	}
	if checked < 10 {
		t.Fatalf("only %d packages type-checked; the listing is broken", checked)
	}
}

// netlinkType names t when it is one of netlink's types, or a pointer,
// slice or tuple of them; "" otherwise.
func netlinkType(t types.Type) string {
	for {
		switch u := t.(type) {
		case *types.Pointer:
			t = u.Elem()
			continue
		case *types.Slice:
			t = u.Elem()
			continue
		case *types.Tuple:
			for v := range u.Variables() {
				if name := netlinkType(v.Type()); name != "" {
					return name
				}
			}
			return ""
		case interface{ Obj() *types.TypeName }: // named types and aliases
			if o := u.Obj(); o.Pkg() != nil && isNetlink(o.Pkg().Path()) {
				return o.Pkg().Name() + "." + o.Name()
			}
		}
		return ""
	}
}

// goList runs go list with args and returns its output's lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, ee.Stderr)
		}
		t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
	}
	return strings.Split(strings.TrimRight(string(out), "\n"), "\n")
}

// TestAgentOnlyTranslates holds the agent package to HTTP, access control
// and wiring: it reaches the kernel, the stores and the DHCP clients only
// through the engine, so none of their packages is among its imports.
func TestAgentOnlyTranslates(t *testing.T) {
	const mod = "github.com/hostnetd/hostnetd/"
	out, err := exec.Command("go", "list", "-f", "{{join .Imports \"\\n\"}}", mod+"agent").Output()
	if err != nil {
		t.Fatalf("go list agent: %v", err)
	}
	forbidden := []string{mod + "netconf/kernel", mod + "agent/dhcp4", mod + "agent/dhcp6", mod + "agent/internal/atomicfile",
		mod + "agent/internal/dhcpclient", "github.com/vishvananda/netlink", "github.com/vishvananda/netns", "github.com/insomniacslk/dhcp"}
	for _, imp := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if imp == f || strings.HasPrefix(imp, f+"/") {
				t.Errorf("agent imports %s: that is the engine's (agent/engine)", imp)
			}
		}
	}
}

// TestEngineKnowsNoHTTP: the engine's errors have kinds, and the agent
// alone turns them into statuses. (Its dependencies may use net/http, the
// Prometheus client does; its own files may not.)
func TestEngineKnowsNoHTTP(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{join .Imports \"\\n\"}}", "github.com/hostnetd/hostnetd/agent/engine").Output()
	if err != nil {
		t.Fatalf("go list agent/engine: %v", err)
	}
	for _, imp := range strings.Fields(string(out)) {
		if imp == "net/http" || strings.HasPrefix(imp, "net/http/") {
			t.Errorf("agent/engine imports %s", imp)
		}
	}
}
