package engine

import (
	"fmt"
	"io"
	"os"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// LogOptions chooses how mailrules logs.
type LogOptions struct {
	// Format is "console" (human-readable), "json", or "" for console when
	// Output is a terminal and JSON otherwise.
	Format string
	// Level is debug, info, warn or error; "" means info.
	Level string
	// Output is where log lines go; nil means standard error.
	Output io.Writer
}

// NewLogger builds the zap logger described by opts. A nil opts is the zero
// value. Output is buffered and flushed every second: call Sync on the
// logger before exiting.
func NewLogger(opts *LogOptions) (*zap.Logger, error) {
	if opts == nil {
		opts = &LogOptions{}
	}
	out := opts.Output
	if out == nil {
		out = os.Stderr
	}
	level := zapcore.InfoLevel
	if opts.Level != "" {
		if err := level.Set(opts.Level); err != nil {
			return nil, fmt.Errorf("log level %q: want debug, info, warn or error", opts.Level)
		}
	}
	format := opts.Format
	if format == "" {
		format = "json"
		if isTerminal(out) {
			format = "console"
		}
	}
	encCfg := zap.NewProductionEncoderConfig()
	encCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	var enc zapcore.Encoder
	switch format {
	case "console":
		encCfg.EncodeLevel = zapcore.CapitalLevelEncoder
		encCfg.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05.000")
		encCfg.EncodeDuration = zapcore.StringDurationEncoder // "92ms", not 0.092
		enc = zapcore.NewConsoleEncoder(encCfg)
	case "json":
		enc = zapcore.NewJSONEncoder(encCfg)
	default:
		return nil, fmt.Errorf("log format %q: want console or json", format)
	}
	// Buffered, so that a pass logging tens of thousands of actions does not
	// make a write system call per line; flushed every second and by Sync,
	// which the command calls before it exits.
	ws := &zapcore.BufferedWriteSyncer{WS: zapcore.AddSync(out), Size: 64 << 10, FlushInterval: time.Second}
	core := zapcore.NewCore(enc, ws, level)
	return zap.New(core), nil
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	return fi.Mode()&os.ModeCharDevice != 0
}
