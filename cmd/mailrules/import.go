package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mailrules/mailrules/gmailfilter"
)

// importFormats are the rule formats mailrules import reads.
var importFormats = []string{"gmail"}

// maxImportSize bounds the export read, so that a wrong file (a mailbox,
// a disk image) fails clearly instead of filling memory.
const maxImportSize = 64 << 20

// importOptions are import's flags.
type importOptions struct {
	output, archive *string
	noBody          *bool
}

// importFlags registers import's flags on fs.
func importFlags(fs *flag.FlagSet) importOptions {
	return importOptions{
		output: fs.String("o", "", "write the rules to `file` instead of standard output"),
		archive: fs.String("archive", gmailfilter.DefaultArchive,
			"the `mailbox` that archiving filters without a label move mail to; on Gmail itself [Gmail]/All Mail"),
		noBody: fs.Bool("no-body", false, "plain words search the Subject and the sender only, not the body (which needs whole messages fetched)"),
	}
}

// cmdImport is `mailrules import gmail FILE`: it translates Gmail's filter
// export into [[rule]] tables, writes them to stdout (or -o), and lists
// what it could not translate on stderr.
func cmdImport(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("import", stderr)
	opts := importFlags(fs)
	// Flags may come before or after the format and the file.
	var operands []string
	for {
		if err := fs.Parse(args); err != nil {
			return exitUsage(err)
		}
		if fs.NArg() == 0 {
			break
		}
		operands = append(operands, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(operands) != 2 {
		fs.Usage()
		return exitConfig
	}
	format, input := operands[0], operands[1]
	if format != "gmail" {
		fmt.Fprintf(stderr, "mailrules import: unknown format %q; want one of %s\n", format, strings.Join(importFormats, ", "))
		return exitConfig
	}
	data, name, err := readImport(input, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "mailrules import: %v\n", err)
		return exitFailure
	}
	res, err := gmailfilter.Import(data, name, &gmailfilter.Options{Archive: *opts.archive, NoBody: *opts.noBody})
	if err != nil {
		fmt.Fprintf(stderr, "mailrules import: %v\n", err)
		return exitConfig
	}
	var out bytes.Buffer
	if err := res.WriteTOML(&out); err != nil {
		fmt.Fprintf(stderr, "mailrules import: %v\n", err)
		return exitFailure
	}
	if *opts.output == "" {
		_, err = stdout.Write(out.Bytes())
	} else {
		err = os.WriteFile(*opts.output, out.Bytes(), 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "mailrules import: %v\n", err)
		return exitFailure
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(stderr, w)
	}
	disabled := 0
	for _, r := range res.Rules {
		if len(r.Disabled) > 0 {
			disabled++
		}
	}
	fmt.Fprintf(stderr, "%s: %d %s: %d %s, %d commented out; %d %s\n", name,
		len(res.Feed.Filters), plural(len(res.Feed.Filters), "filter", "filters"),
		len(res.Rules)-disabled, plural(len(res.Rules)-disabled, "rule", "rules"), disabled,
		len(res.Warnings), plural(len(res.Warnings), "warning", "warnings"))
	return exitOK
}

// readImport reads the export from path, or from stdin for "-", and
// returns it with the name positions give it.
func readImport(path string, stdin io.Reader) ([]byte, string, error) {
	r, name := stdin, "<stdin>"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, "", err
		}
		defer f.Close()
		r, name = f, path
	}
	data, err := io.ReadAll(io.LimitReader(r, maxImportSize+1))
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > maxImportSize {
		return nil, "", fmt.Errorf("%s: larger than %d MiB; not a Gmail filter export", name, maxImportSize>>20)
	}
	return data, name, nil
}
