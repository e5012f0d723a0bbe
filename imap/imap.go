package imap

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
)

// Options configure a Client. A nil *Options is equivalent to a zero Options.
type Options struct {
	// Trace, when set, receives a protocol trace: "C: " lines sent, "S: "
	// lines received. LOGIN and AUTHENTICATE arguments and SASL exchanges
	// are redacted; literal contents are abbreviated to their size.
	Trace io.Writer
	// UpdateHandler receives unsolicited data outside Idle (EXISTS, EXPUNGE,
	// FETCH, BYE, ALERT...). It runs on the goroutine executing the command
	// and must not call the Client. When nil, updates are dropped after
	// being applied to the Client's state.
	UpdateHandler func(Update)
	// DialTimeout bounds connection establishment; default 30s.
	DialTimeout time.Duration
	// KeepAlive is how long a connection may be idle before TCP keepalive
	// probes start (then every KeepAlive/3; three unanswered probes end
	// the connection), default 30s: a dead peer is noticed within about
	// 2*KeepAlive, in IDLE too.
	KeepAlive time.Duration
	// MaxLiteralSize is the largest literal accepted from the server; default
	// 64 MiB. A larger announcement fails the command with ErrAbort and
	// nothing is allocated for it.
	MaxLiteralSize int64
	// MaxResponseSize bounds the memory one server response may make the
	// Client hold: the bytes of literal data and line text of, for
	// example, one untagged FETCH of one message with all its body
	// sections (RFC 3501 section 7.4.2), or of one SEARCH result. Small
	// items (list elements, numbers, body structures) count for about
	// what they cost in memory, so that many tiny ones cannot add up to
	// many times the limit; literals the Client skips unread do not count.
	// Default 128 MiB; it is never less than MaxLiteralSize. The limit is
	// checked while the response is read, before anything is allocated
	// for the part beyond it: a response that would exceed it fails the
	// command with an error wrapping ErrAbort, and the connection is
	// unusable afterwards, as with an oversized literal. Streaming FETCH
	// (Fetch, UIDFetch) counts each message on its own, and a message's
	// buffers are released or reused after its callback.
	MaxResponseSize int64
	// ReadTimeout, when positive, is how long any command may wait without
	// a byte arriving from the server (or, while sending, without the
	// server accepting any) before it fails with an error wrapping both
	// ErrAbort and context.DeadlineExceeded; the connection is closed. It
	// is an inactivity timeout: data that keeps arriving, however slowly,
	// keeps a long FETCH going, and time spent in a Fetch callback does
	// not count. Idle is exempt while idling, which is silent by design
	// (KeepAlive probes the connection then), but not while it starts or
	// ends IDLE (RFC 2177 section 3: the DONE exchange). Zero, the
	// default, means no such limit: only the context bounds a command.
	ReadTimeout time.Duration
	// AllowInsecureAuth permits LOGIN and AUTHENTICATE over an unencrypted
	// connection to a host other than loopback.
	AllowInsecureAuth bool
	// IdleRestart is how often Idle re-issues IDLE; default 25 minutes,
	// at most 29 (RFC 2177 section 3).
	IdleRestart time.Duration
}

func (o *Options) dialTimeout() time.Duration {
	if o == nil || o.DialTimeout <= 0 {
		return 30 * time.Second
	}
	return o.DialTimeout
}

// Defaults of the memory limits.
const (
	defaultMaxResponseSize = 128 << 20
)

// maxLiteralSize returns the effective MaxLiteralSize.
func (o *Options) maxLiteralSize() int64 {
	if o == nil || o.MaxLiteralSize <= 0 {
		return imapwire.DefaultMaxLiteral
	}
	return o.MaxLiteralSize
}

// maxResponseSize returns the effective MaxResponseSize: the default when
// unset, and never less than the literal limit.
func (o *Options) maxResponseSize() int64 {
	n := int64(defaultMaxResponseSize)
	if o != nil && o.MaxResponseSize > 0 {
		n = o.MaxResponseSize
	}
	return max(n, o.maxLiteralSize())
}

func (o *Options) keepAlive() time.Duration {
	if o == nil || o.KeepAlive <= 0 {
		return 30 * time.Second
	}
	return o.KeepAlive
}

// Cap is a capability name as the server advertises it (upper-case).
type Cap string

// Capabilities this package knows.
const (
	CapIMAP4rev1     Cap = "IMAP4rev1"     // RFC 3501
	CapStartTLS      Cap = "STARTTLS"      // RFC 3501 section 6.2.1
	CapLoginDisabled Cap = "LOGINDISABLED" // RFC 3501 section 6.2.3
	CapIdle          Cap = "IDLE"          // RFC 2177
	CapMove          Cap = "MOVE"          // RFC 6851
	CapUIDPlus       Cap = "UIDPLUS"       // RFC 4315
	CapLiteralPlus   Cap = "LITERAL+"      // RFC 7888
	CapLiteralMinus  Cap = "LITERAL-"      // RFC 7888
	CapSASLIR        Cap = "SASL-IR"       // RFC 4959
	CapEnable        Cap = "ENABLE"        // RFC 5161
	CapCondStore     Cap = "CONDSTORE"     // RFC 7162
	CapQResync       Cap = "QRESYNC"       // RFC 7162
	CapSpecialUse    Cap = "SPECIAL-USE"   // RFC 6154
	CapNamespace     Cap = "NAMESPACE"     // RFC 2342
	CapID            Cap = "ID"            // RFC 2971
	CapUnselect      Cap = "UNSELECT"      // RFC 3691
	CapESearch       Cap = "ESEARCH"       // RFC 4731
	CapSort          Cap = "SORT"          // RFC 5256
	CapThreadRefs    Cap = "THREAD=REFERENCES"
	CapThreadOrdered Cap = "THREAD=ORDEREDSUBJECT"
	CapBinary        Cap = "BINARY"        // RFC 3516
	CapUTF8Accept    Cap = "UTF8=ACCEPT"   // RFC 6855
	CapListExtended  Cap = "LIST-EXTENDED" // RFC 5258
	CapListStatus    Cap = "LIST-STATUS"   // RFC 5819
	CapACL           Cap = "ACL"           // RFC 4314
	CapQuota         Cap = "QUOTA"         // RFC 2087
	CapMetadata      Cap = "METADATA"      // RFC 5464
	CapChildren      Cap = "CHILDREN"      // RFC 3348
	CapNotify        Cap = "NOTIFY"        // RFC 5465
)

// CapSet is a set of capabilities.
type CapSet map[Cap]struct{}

// Has reports whether the set contains c (case-insensitively).
func (s CapSet) Has(c Cap) bool {
	if _, ok := s[c]; ok {
		return true
	}
	_, ok := s[Cap(strings.ToUpper(string(c)))]
	return ok
}

// AuthMechs returns the SASL mechanisms advertised as AUTH=<name>.
func (s CapSet) AuthMechs() []string {
	var mechs []string
	for c := range s {
		if name, ok := strings.CutPrefix(string(c), "AUTH="); ok {
			mechs = append(mechs, name)
		}
	}
	return mechs
}

func (s CapSet) clone() CapSet {
	out := make(CapSet, len(s))
	for c := range s {
		out[c] = struct{}{}
	}
	return out
}

// ConnState is the connection state of RFC 3501 section 3.
type ConnState int

// Connection states.
const (
	NotAuthenticated ConnState = iota // section 3.1
	Authenticated                     // section 3.2
	Selected                          // section 3.3
	Logout                            // section 3.4
)

// String returns the state's name, e.g. "authenticated".
func (s ConnState) String() string {
	switch s {
	case NotAuthenticated:
		return "not authenticated"
	case Authenticated:
		return "authenticated"
	case Selected:
		return "selected"
	case Logout:
		return "logout"
	}
	return fmt.Sprintf("ConnState(%d)", int(s))
}

// System flags (RFC 3501 section 2.3.2).
const (
	FlagSeen     = `\Seen`
	FlagAnswered = `\Answered`
	FlagFlagged  = `\Flagged`
	FlagDeleted  = `\Deleted`
	FlagDraft    = `\Draft`
	FlagRecent   = `\Recent`
	// FlagWildcard in PERMANENTFLAGS means new keywords may be created.
	FlagWildcard = `\*`
)

// UpdateKind says what an Update carries.
type UpdateKind int

// Kinds of update.
const (
	UpdateExists   UpdateKind = iota // Num is the new message count (RFC 3501 section 7.3.1)
	UpdateRecent                     // Num is the new \Recent count (section 7.3.2)
	UpdateExpunge                    // Num is the expunged sequence number (section 7.4.1)
	UpdateFetch                      // Message holds the FETCH data, e.g. changed FLAGS (section 7.4.2)
	UpdateBye                        // the server is closing the connection; Text says why (section 7.1.5)
	UpdateAlert                      // an [ALERT] the user must see; Text is the alert (section 7.1)
	UpdateOther                      // any other untagged data; Text is the raw response, Code its response code if any
	UpdateVanished                   // UIDs were expunged (VANISHED, RFC 7162 section 3.2.10, once QRESYNC is enabled); Vanished holds the UIDs
	UpdateStatus                     // NOTIFY: Status holds another mailbox's STATUS (RFC 5465 section 5.2)
	UpdateMailbox                    // NOTIFY: List holds a created, renamed or deleted mailbox (RFC 5465 section 5.4)
	UpdateOverflow                   // NOTIFY: the server stopped notifying, [NOTIFICATIONOVERFLOW] (RFC 5465 section 5.8)
)

// String returns the kind as the server names it, e.g. "EXISTS".
func (k UpdateKind) String() string {
	switch k {
	case UpdateExists:
		return "EXISTS"
	case UpdateRecent:
		return "RECENT"
	case UpdateExpunge:
		return "EXPUNGE"
	case UpdateFetch:
		return "FETCH"
	case UpdateBye:
		return "BYE"
	case UpdateAlert:
		return "ALERT"
	case UpdateVanished:
		return "VANISHED"
	case UpdateStatus:
		return "STATUS"
	case UpdateMailbox:
		return "LIST"
	case UpdateOverflow:
		return "NOTIFICATIONOVERFLOW"
	}
	return "OTHER"
}

// Update is unsolicited data from the server.
type Update struct {
	Kind     UpdateKind
	Num      uint32
	Message  *FetchMessage
	Text     string
	Code     string
	Vanished *VanishedData // UpdateVanished: the expunged UIDs (a pointer keeps Update comparable)
	// Status is another mailbox's STATUS (UpdateStatus), List a LIST
	// response about a mailbox (UpdateMailbox); both only with NOTIFY.
	Status *StatusData
	List   *ListData
}

// Error is a tagged NO or BAD response to a command (RFC 3501 section 7.1).
type Error struct {
	Status   string // "NO" or "BAD"
	Code     string // response code without brackets and arguments, e.g. "TRYCREATE"; "" if none
	CodeArgs string // the response code's arguments as sent
	Text     string // human-readable text
	Command  string // the command's name, e.g. "UID MOVE"
}

// Error formats the tagged response: status, response code and text.
func (e *Error) Error() string {
	var sb strings.Builder
	sb.WriteString("imap: ")
	if e.Command != "" {
		sb.WriteString(e.Command)
		sb.WriteString(": ")
	}
	sb.WriteString(e.Status)
	if e.Code != "" {
		sb.WriteString(" [")
		sb.WriteString(e.Code)
		if e.CodeArgs != "" {
			sb.WriteByte(' ')
			sb.WriteString(e.CodeArgs)
		}
		sb.WriteByte(']')
	}
	if e.Text != "" {
		sb.WriteByte(' ')
		sb.WriteString(e.Text)
	}
	return sb.String()
}

// Is makes errors.Is(err, ErrReadOnly) true for NO [READ-ONLY].
func (e *Error) Is(target error) bool {
	return target == ErrReadOnly && e.Code == "READ-ONLY"
}

// Errors callers branch on with errors.Is.
var (
	// ErrAbort marks connection-level failures: EOF, BYE, a protocol
	// violation, a command cancelled in flight. The Client is unusable.
	ErrAbort = errors.New("imap: connection aborted")
	// ErrReadOnly reports a write to a mailbox opened read-only (EXAMINE)
	// or a NO [READ-ONLY] from the server.
	ErrReadOnly = errors.New("imap: mailbox is read-only")
	// ErrNotSupported reports a command that needs a capability the server
	// does not advertise.
	ErrNotSupported = errors.New("imap: not supported by server")
)

// IsTryCreate reports whether err is a NO [TRYCREATE]: the destination
// mailbox does not exist and creating it may help (RFC 3501 section 7.1).
func IsTryCreate(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == "TRYCREATE"
}

// abortError wraps the cause of a connection-level failure so that both
// errors.Is(err, ErrAbort) and errors.Is(err, cause) hold.
type abortError struct {
	op  string
	err error
}

func (e *abortError) Error() string {
	if e.op == "" {
		return "imap: connection aborted: " + e.err.Error()
	}
	return "imap: " + e.op + ": connection aborted: " + e.err.Error()
}

func (e *abortError) Unwrap() []error { return []error{ErrAbort, e.err} }

func notSupported(cmd string, c Cap) error {
	return fmt.Errorf("%s: server lacks %s: %w", cmd, c, ErrNotSupported)
}
