package imap

import (
	"io"
	"strconv"
	"sync"
)

// tracer writes the protocol trace. Client lines are written by the command
// builder, which knows which arguments are secret; server bytes pass through
// serverTrace, which abbreviates literals.
type tracer struct {
	mu sync.Mutex
	w  io.Writer
}

func (t *tracer) line(prefix string, b []byte) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	buf := make([]byte, 0, len(prefix)+len(b)+1)
	buf = append(buf, prefix...)
	buf = append(buf, b...)
	if len(buf) == 0 || buf[len(buf)-1] != '\n' {
		buf = append(buf, '\n')
	}
	t.w.Write(buf) //nolint:errcheck // tracing is best effort
}

// serverTrace is an io.Reader that copies what it reads to the tracer,
// line by line, replacing literal contents with their size.
type serverTrace struct {
	r    io.Reader
	t    *tracer
	line []byte
	skip int64 // literal bytes still to elide
}

const traceLineMax = 512

func (s *serverTrace) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.feed(p[:n])
	return n, err
}

func (s *serverTrace) feed(b []byte) {
	for len(b) > 0 {
		if s.skip > 0 {
			k := int64(len(b))
			if k > s.skip {
				k = s.skip
			}
			s.skip -= k
			b = b[k:]
			continue
		}
		i := 0
		for i < len(b) && b[i] != '\n' {
			i++
		}
		if len(s.line) < traceLineMax {
			end := i
			if len(s.line)+end > traceLineMax {
				end = traceLineMax - len(s.line)
			}
			s.line = append(s.line, b[:end]...)
		}
		if i == len(b) {
			return
		}
		b = b[i+1:]
		if len(s.line) > 0 && s.line[len(s.line)-1] == '\r' {
			s.line = s.line[:len(s.line)-1]
		}
		if n, ok := literalAtEnd(s.line); ok {
			s.skip = n
			s.line = append(s.line, " <"...)
			s.line = strconv.AppendInt(s.line, n, 10)
			s.line = append(s.line, " bytes>"...)
		}
		s.t.line("S: ", s.line)
		s.line = s.line[:0]
	}
}

// literalAtEnd reports whether a line ends with a literal announcement.
func literalAtEnd(line []byte) (int64, bool) {
	i := len(line) - 1
	if i >= 0 && line[i] == '\n' {
		i--
	}
	if i >= 0 && line[i] == '\r' {
		i--
	}
	if i < 0 || line[i] != '}' {
		return 0, false
	}
	i--
	end := i + 1
	if i >= 0 && line[i] == '+' {
		i--
		end--
	}
	j := i
	for j >= 0 && line[j] >= '0' && line[j] <= '9' {
		j--
	}
	if j < 0 || line[j] != '{' || j+1 == end {
		return 0, false
	}
	n, err := strconv.ParseInt(string(line[j+1:end]), 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}
