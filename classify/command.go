package classify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Command runs a program for each message, the message on its standard
// input, and reads the verdict from it. The contract, by Output:
//
//   - "exit" (the default), bogofilter's: exit code 0 means spam, 1 ham, 2
//     unsure (Spam false, Action "unsure"); Score and Required are 0. Any
//     other exit code, a signal or a timeout is no verdict (ErrUnavailable).
//   - "json": exit code 0 and one JSON object on standard output:
//     {"score": 7.5, "required": 5, "spam": true, "symbols": ["A", "B"],
//     "action": "..."}; "spam" is required, the rest optional (Action
//     defaults to "spam" or "ham"). Any other exit code, or output that is
//     not such an object, is no verdict.
//
// Learning runs LearnCommand, the message on its standard input, with the
// class ("spam" or "ham") in the environment variable MAILRULES_CLASS and
// in place of every "{class}" in its arguments; exit code 0 means learned.
// Both commands also get MAILRULES_CLASSIFIER, the classifier's name. What
// they print on standard error goes into the error when they fail.
type Command struct {
	limiter
	argv, learnArgv []string
	output          string
}

// NewCommand returns a command classifier for cfg.
func NewCommand(cfg Config) *Command {
	cfg = cfg.WithDefaults()
	return &Command{limiter: newLimiter(cfg), argv: cfg.Command, learnArgv: cfg.LearnCommand, output: cfg.Output}
}

// Name returns the configured name.
func (c *Command) Name() string { return c.name }

// MaxSize returns the largest message sent.
func (c *Command) MaxSize() int64 { return c.maxSize }

// commandJSON is the JSON output contract.
type commandJSON struct {
	Score    float64  `json:"score"`
	Required float64  `json:"required"`
	Spam     *bool    `json:"spam"`
	Symbols  []string `json:"symbols"`
	Action   string   `json:"action"`
}

// Classify runs the command on msg and reads its verdict.
func (c *Command) Classify(ctx context.Context, msg []byte) (*Verdict, error) {
	if v := c.tooLarge(msg); v != nil {
		return v, nil
	}
	res, err := c.run(ctx, c.argv, msg, nil)
	if err != nil {
		return nil, err
	}
	stdout := res.stdout
	v := &Verdict{Classifier: c.name}
	if c.output == OutputExit {
		switch res.code {
		case 0:
			v.Spam, v.Action = true, "spam"
		case 1:
			v.Action = "ham"
		case 2:
			v.Action = "unsure"
		default:
			return nil, c.failed(c.argv[0], res, " (want 0 spam, 1 ham or 2 unsure)")
		}
		return v, nil
	}
	if res.code != 0 {
		return nil, c.failed(c.argv[0], res, "")
	}
	var out commandJSON
	dec := json.NewDecoder(bytes.NewReader(stdout))
	if err := dec.Decode(&out); err != nil {
		return nil, c.unavailable("%s: output is not a JSON object %s: %w", c.argv[0], snippet(stdout), err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, c.unavailable("%s: more than one JSON value in the output %s", c.argv[0], snippet(stdout))
	}
	if out.Spam == nil {
		return nil, c.unavailable("%s: JSON output without \"spam\": %s", c.argv[0], snippet(stdout))
	}
	v.Score, v.Required, v.Spam, v.Action = out.Score, out.Required, *out.Spam, out.Action
	if v.Action == "" {
		v.Action = "ham"
		if v.Spam {
			v.Action = "spam"
		}
	}
	v.Symbols = append(v.Symbols, out.Symbols...)
	sort.Strings(v.Symbols)
	return v, nil
}

// Learn runs the learn command on msg; see [Command].
func (c *Command) Learn(ctx context.Context, msg []byte, class Class) error {
	if len(c.learnArgv) == 0 {
		return fmt.Errorf("classifier %s: no learn_command: %w", c.name, errors.ErrUnsupported)
	}
	if class != Spam && class != Ham {
		return fmt.Errorf("classifier %s: learn: unknown class %d", c.name, class)
	}
	if c.tooLarge(msg) != nil {
		return fmt.Errorf("classifier %s: learn: message of %d bytes is over max_size %d", c.name, len(msg), c.maxSize)
	}
	argv := make([]string, len(c.learnArgv))
	for i, a := range c.learnArgv {
		argv[i] = strings.ReplaceAll(a, "{class}", class.String())
	}
	res, err := c.run(ctx, argv, msg, []string{"MAILRULES_CLASS=" + class.String()})
	if err != nil {
		return err
	}
	if res.code != 0 {
		return c.failed("learn "+class.String()+": "+argv[0], res, "")
	}
	return nil
}

// maxCommandOutput bounds what is kept of a command's output.
const maxCommandOutput = 1 << 20

// commandResult is how a command ended.
type commandResult struct {
	stdout []byte
	code   int    // exit code
	stderr string // the start of what it printed on standard error
}

// failed returns the error for a command that exited with an unexpected
// code, with what it said on standard error.
func (c *Command) failed(what string, r *commandResult, want string) error {
	if r.stderr != "" {
		return c.unavailable("%s exited with %d%s: %s", what, r.code, want, snippet([]byte(r.stderr)))
	}
	return c.unavailable("%s exited with %d%s", what, r.code, want)
}

// run runs argv with msg on its stdin, in a slot and within the timeout.
// A command that cannot start, is killed by a signal or times out is an
// error wrapping ErrUnavailable; an exit code is not. The command runs in
// its own process group, which is killed as a whole on timeout, so that a
// shell's children do not outlive it.
func (c *Command) run(ctx context.Context, argv []string, msg []byte, env []string) (*commandResult, error) {
	ctx, done, err := c.start(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(append(os.Environ(), "MAILRULES_CLASSIFIER="+c.name), env...)
	cmd.Stdin = bytes.NewReader(msg)
	var stdout, stderr limitedBuffer
	stdout.max, stderr.max = maxCommandOutput, 4096
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	res := &commandResult{stdout: stdout.Bytes(), stderr: strings.TrimSpace(stderr.String())}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return nil, c.unavailable("%s: %w", argv[0], c.timeoutCause(ctx, ctx.Err()))
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		res.code = exit.ExitCode()
	case err != nil: // not started, killed by a signal, output not copied
		return nil, c.unavailable("%s: %w", argv[0], err)
	}
	return res, nil
}

// limitedBuffer keeps the first max bytes written to it and drops the
// rest, so that a chatty program cannot grow memory without bound.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
