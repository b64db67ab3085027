package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/contoso/sbportal/api"
)

func init() {
	register(command{
		name:    "steps",
		summary: "list an endpoint's steps over a portal's API (list ENV ID)",
		run:     runSteps,
	})
}

func runSteps(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("steps", "steps list ENV ID [--portal URL] [--output text|json]", stderr)
	if len(args) == 0 || args[0] != "list" {
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		return fmt.Errorf("%w: the subcommand is list", errUsage)
	}
	var f apiFlags
	f.register(fs)
	pos, err := parseArgs(fs, args[1:], "ENV", "ID")
	if err != nil {
		return err
	}
	call, err := f.connect(stdout)
	if err != nil {
		return err
	}
	var l api.StepList
	if err := call.do(ctx, http.MethodGet, "/endpoints/"+url.PathEscape(pos[0])+"/"+url.PathEscape(pos[1])+"/steps", nil, nil, &l); err != nil || call.json {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tMESSAGE\tTABLE\tSTAGE\tMODE\tSTATE")
	for _, st := range l.Items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", st.ID, st.Name, st.Message, cmp.Or(st.Table, "none"), st.Stage.Label(),
			st.Mode.Label(), strings.ToLower(st.State.Label()))
	}
	return tw.Flush()
}
