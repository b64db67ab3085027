// Command portal is the Service Endpoint Portal: one binary with subcommands for production
// (serve), the local stack (dev), the stand-ins on their own, and maintenance tasks.
//
// Each subcommand lives in its own cmd_*.go file and registers itself in init; main only
// dispatches. Subcommands receive a context that ends on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"syscall"
)

// command is one subcommand of portal.
type command struct {
	name    string
	summary string
	// run executes the subcommand. It returns errUsage (possibly wrapped) for bad arguments,
	// flag.ErrHelp after printing help, or any other error for a failure.
	run func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

// register adds a subcommand; called from init in each cmd_*.go file.
func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("portal: subcommand registered twice: " + c.name)
	}
	commands[c.name] = c
}

// errUsage marks an error caused by bad arguments: main exits with status 2.
var errUsage = errors.New("usage error")

// defaultGCPercent is the garbage collector's target when GOGC is not set. The portal's live
// heap is small (the catalogs, tens of megabytes) and every request allocates a little: letting
// the heap grow to three times the live data instead of twice spends about 10 MB more memory and
// gives the list page about 10 % more throughput (README, Performance).
const defaultGCPercent = 200

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// dispatch runs the subcommand named by args[0] and returns the process exit status.
func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		printUsage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "portal: unknown command %q\n\n", args[0])
		printUsage(stderr)
		return 2
	}
	err := c.run(ctx, args[1:], stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errProvedWrong):
		fmt.Fprintf(stderr, "portal %s: %v\n", c.name, err)
		return 3
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "portal %s: %v\nRun 'portal %s --help' for usage.\n", c.name, err, c.name)
		return 2
	default:
		fmt.Fprintf(stderr, "portal %s: %v\n", c.name, err)
		return 1
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: portal <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-22s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'portal <command> --help' for a command's flags.")
}

// newFlagSet returns a FlagSet that reports errors instead of exiting, with a usage text made
// of the given synopsis and the flags' defaults.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("portal "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: portal %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and turns flag errors into errUsage; -h/--help yields flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}
