// Command hostnetctl is the command-line client of hostnetd. It talks to
// the daemon over its Unix socket with the same HTTP API as any other
// client, in JSON, and prints tables (or, with -o json, the daemon's own
// JSON documents). It imports nothing of the daemon.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// DefaultSocket is where hostnetd listens unless told otherwise.
const DefaultSocket = "/run/hostnetd/hostnetd.sock"

const usage = `Usage: hostnetctl [--socket PATH] [-o table|json] COMMAND [ARGS]
       hostnetctl --version

Commands:
  nics                  the host's interfaces: name, MAC, MTU, state,
                        addresses, VLAN, bond and attached networks
  networks              the network catalogue
  attachments           the network attachments, with their addressing
                        and whether they are in sync with the kernel
  apply [--dry-run] FILE
                        send FILE (XML or JSON; - for standard input) as
                        one setupnetworks; with --dry-run print the plan
                        (the kernel writes, in order, and the links that
                        would go down) and change nothing
  commit                make the running configuration persistent
  sync                  re-apply every attachment that drifted
  confirm               confirm the connectivity of a change waiting for it
  events [-f]           the events, oldest first; -f follows new ones
                        until interrupted

Options (before or after the command):
  --socket PATH         the daemon's socket (default $HOSTNETD_SOCKET, or
                        ` + DefaultSocket + `)
  -o table|json         output: aligned tables (default), or the daemon's
                        JSON documents; events -f -o json prints one event
                        per line

Exit status:
  0    success (events -f: also when interrupted)
  1    the daemon refused or failed the request; its fault's reason,
       detail and code are printed on standard error
  2    usage error: unknown command or flag, missing or unreadable FILE
  3    the daemon cannot be reached (no socket, no daemon, no permission)
  4    the daemon is busy: another change is running (409
       NETWORK_OPERATION_IN_PROGRESS) or it is restoring the configuration
       at boot (503); the same command may succeed later
  130  interrupted before the daemon answered
`

const seeHelp = "Run 'hostnetctl --help' for usage.\n"

// Exit statuses.
const (
	exitOK          = 0
	exitFault       = 1
	exitUsage       = 2
	exitUnreachable = 3
	exitBusy        = 4
	exitInterrupted = 130
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the flags every command takes.
type options struct {
	socket string
	output string
}

// command is one subcommand: its own flags, and what it does with its
// positional arguments.
type command struct {
	arg   string // the name of its one positional argument; none when empty
	flags func(fs *flag.FlagSet)
	run   func(ctx context.Context, c *client, args []string) error
}

// run is the whole program, with its streams, for tests.
func run(ctx context.Context, argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	socket := os.Getenv("HOSTNETD_SOCKET")
	if socket == "" {
		socket = DefaultSocket
	}
	opts := options{socket: socket, output: "table"}
	global := newFlagSet("hostnetctl", &opts)
	showVersion := global.Bool("version", false, "print the version")
	if code, done := flagError(global.Parse(argv), stdout, stderr); done {
		return code
	}
	if *showVersion {
		fmt.Fprintln(stdout, "hostnetctl", version)
		return exitOK
	}
	rest := global.Args()
	if len(rest) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	name, rest := rest[0], rest[1:]
	var (
		dryRun, follow bool
		out            = &printer{w: stdout}
	)
	commands := map[string]command{
		"nics":        {run: func(ctx context.Context, c *client, _ []string) error { return out.nics(ctx, c) }},
		"networks":    {run: func(ctx context.Context, c *client, _ []string) error { return out.networks(ctx, c) }},
		"attachments": {run: func(ctx context.Context, c *client, _ []string) error { return out.attachments(ctx, c) }},
		"apply": {arg: "FILE",
			flags: func(fs *flag.FlagSet) { fs.BoolVar(&dryRun, "dry-run", false, "print the plan; change nothing") },
			run: func(ctx context.Context, c *client, args []string) error {
				body, err := readInput(args[0], stdin)
				if err != nil {
					return err
				}
				return out.apply(ctx, c, body, dryRun)
			}},
		"commit": {run: func(ctx context.Context, c *client, _ []string) error {
			return out.action(ctx, c, "commitnetconfig", "the running configuration is now persistent")
		}},
		"sync": {run: func(ctx context.Context, c *client, _ []string) error {
			return out.action(ctx, c, "syncallnetworks", "every attachment is in sync")
		}},
		"confirm": {run: func(ctx context.Context, c *client, _ []string) error {
			return out.action(ctx, c, "confirmconnectivity", "connectivity confirmed")
		}},
		"events": {
			flags: func(fs *flag.FlagSet) { fs.BoolVar(&follow, "f", false, "follow: print new events until interrupted") },
			run:   func(ctx context.Context, c *client, _ []string) error { return out.events(ctx, c, follow) }},
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "hostnetctl: unknown command %q\n%s", name, seeHelp)
		return exitUsage
	}
	fs := newFlagSet(name, &opts)
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	args, err := parseInterspersed(fs, rest, cmd.arg)
	if code, done := flagError(err, stdout, stderr); done {
		return code
	}
	if opts.output != "table" && opts.output != "json" {
		fmt.Fprintf(stderr, "hostnetctl: -o %q: want table or json\n%s", opts.output, seeHelp)
		return exitUsage
	}
	out.json = opts.output == "json"
	err = cmd.run(ctx, newClient(opts.socket), args)
	code := exitCode(ctx, err)
	switch {
	case code == exitInterrupted && follow:
		return exitOK // following ends with an interrupt
	case code == exitInterrupted:
		fmt.Fprintln(stderr, "hostnetctl: interrupted")
	case err != nil:
		fmt.Fprintln(stderr, "hostnetctl:", err)
	}
	return code
}

// newFlagSet makes a flag set with the options every command takes; its
// errors are reported by flagError.
func newFlagSet(name string, opts *options) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&opts.socket, "socket", opts.socket, "the daemon's Unix socket")
	fs.StringVar(&opts.output, "o", opts.output, "output: table or json")
	return fs
}

// flagError reports a parse error (or a request for help) and says whether
// the program is done, with which status.
func flagError(err error, stdout, stderr io.Writer) (int, bool) {
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return exitOK, true
	default:
		fmt.Fprintf(stderr, "hostnetctl: %v\n%s", err, seeHelp)
		return exitUsage, true
	}
}

// parseInterspersed parses flags wherever they stand among the positional
// arguments ("apply FILE --dry-run" as well as "apply --dry-run FILE") and
// checks that there is exactly the one named argument, or none when arg
// is empty.
func parseInterspersed(fs *flag.FlagSet, args []string, arg string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		consumed := len(args) - fs.NArg()
		rest := fs.Args()
		if len(rest) == 0 || consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	switch {
	case arg == "" && len(pos) > 0:
		return nil, fmt.Errorf("%s takes no argument; got %q", fs.Name(), pos)
	case arg != "" && len(pos) != 1:
		return nil, fmt.Errorf("%s takes one argument, %s; got %q", fs.Name(), arg, pos)
	}
	return pos, nil
}

// usageError is a problem with the command line or its input file.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// readInput reads FILE, or standard input for "-".
func readInput(name string, stdin io.Reader) ([]byte, error) {
	var (
		body []byte
		err  error
	)
	if name == "-" {
		body, err = io.ReadAll(stdin)
	} else {
		body, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, &usageError{fmt.Errorf("reading the request: %w", err)}
	}
	return body, nil
}
