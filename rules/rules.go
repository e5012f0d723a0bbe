// Package rules compiles mail-filtering rules written as expr expressions
// (https://expr-lang.org) and evaluates them against messages.
//
// A rule is a [Spec]: a name, a condition (When) and actions (move, copy,
// flag, unflag, seen, delete, expunge, stop). [Compile] type-checks every
// condition and mailbox template once against the message environment, so
// that a typo is reported at load time with its position in the
// configuration file. The compiled [Set] reports what the IMAP side must
// fetch for its rules ([Set.Needs]), found by walking the expression trees,
// and evaluates a [Message] into a [Result] with no I/O ([Set.Evaluate]).
// A condition may read a spam classifier's verdict, classify("rspamd");
// the verdict comes with the Message, and an evaluation that needs one it
// does not have says so (Result.Need) instead of deciding.
//
// Semantics: rules run in order; flag changes and copies accumulate; move,
// delete and expunge end processing of the message; stop = true ends it
// explicitly; a message gets at most one final destination. Rules with
// scope "new" (the default) only see messages whose [Message.New] is true.
package rules

import (
	"fmt"
	"time"

	"github.com/mailrules/mailrules/classify"
	"github.com/mailrules/mailrules/internal/diag"
)

// Scope says which messages of a mailbox a rule looks at.
type Scope string

const (
	// ScopeNew rules see only messages that arrived since the last pass (the default).
	ScopeNew Scope = "new"
	// ScopeAll rules sweep the whole mailbox on every pass (auto-archiving).
	ScopeAll Scope = "all"
)

// Locator maps an offset inside a decoded string value of a rule back to
// the configuration file, so that an error in the middle of a condition
// points at the right column even when the TOML string had escapes or
// spanned lines. Field is the TOML key ("when", "move", "copy", "flag"...),
// index the element for array values (0 otherwise), offset a byte offset in
// the decoded value. ok is false when the position is unknown.
type Locator interface {
	Locate(field string, index, offset int) (pos diag.Position, ok bool)
}

// Event is something that makes a rule look at a message.
type Event string

const (
	// OnArrival rules look at messages that arrived since the last pass
	// (and, with scope "all", at the whole mailbox). The default.
	OnArrival Event = "arrival"
	// OnFlags rules look at messages whose flags changed since the last
	// pass, by another client than mailrules (a flag pass).
	OnFlags Event = "flags"
)

// Spec is one rule as written in the configuration.
type Spec struct {
	Name      string
	When      string        // expr condition, must evaluate to a bool
	Move      string        // destination mailbox template, "/"-separated; final
	Copy      []string      // mailbox templates to copy to
	Flag      []string      // flags (keywords or \System flags) to add
	Unflag    []string      // flags to remove
	Seen      *bool         // true: add \Seen; false: remove \Seen; nil: leave alone
	Delete    bool          // move to the account's Trash; final
	Expunge   bool          // remove permanently; final
	Stop      bool          // end processing of the message after this rule
	Accounts  []string      // limit to these accounts (empty: all)
	Mailboxes []string      // limit to these mailboxes (empty: the account's)
	Scope     Scope         // "" means ScopeNew
	On        []string      // events the rule reacts to (Event values); empty means ["arrival"]
	Pos       diag.Position // where the rule starts ([[rule]] line)

	// Loc, when set, locates positions inside the rule's string values.
	Loc Locator

	// Script, when set, makes this a script rule (a Sieve script): it
	// decides instead of When and the action fields, which must be empty.
	Script Script
}

// Needs says what the IMAP side must fetch for a rule set to be evaluated.
type Needs struct {
	Headers      []string // header field names, upper-case, sorted, unique
	AllHeaders   bool     // some rule reads a header whose name is not a constant: fetch the whole header
	Flags        bool     // FLAGS
	InternalDate bool     // INTERNALDATE
	Size         bool     // RFC822.SIZE
	Body         bool     // the whole message (Message.Raw)
	// Mailboxes says that some rule asks which mailboxes exist (a Sieve
	// mailboxexists): the caller fills Message.MailboxExists.
	Mailboxes bool
}

// Message is what a rule set is evaluated against.
type Message struct {
	Account, Mailbox string
	UID              uint32
	Flags            []string
	InternalDate     time.Time
	Size             int64
	// Header is the raw header block: the fetched fields, or the whole
	// header. Evaluate reads it in place: it must not change during the
	// call, and may be reused afterwards (nothing in a Result refers to it).
	Header []byte
	// Raw is the whole message, possibly truncated; set only when Needs.Body.
	// The same holds as for Header.
	Raw []byte
	// New is true for a message that arrived since the last pass.
	New bool
	// FlagsChanged is true in a flag pass: the message's flags changed
	// since the last one. Only rules with "flags" in on are evaluated
	// then, and only they.
	FlagsChanged bool
	// Verdicts are the classifiers' answers about the message, by
	// classifier name; a rule that reaches classify(name) with no verdict
	// for name makes Evaluate return a Result with Need set.
	Verdicts map[string]*classify.Verdict
	// MailboxExists answers whether the account has a mailbox, named by a
	// "/"-separated path as rules write mailboxes (the same mapping onto
	// the server's names as a move's destination). It is needed only when
	// Needs.Mailboxes; nil means every mailbox counts as existing. It must
	// do no I/O: a pass answers from one LIST made before it fetches.
	MailboxExists func(path string) bool
}

// Result is what the rules decided for one message.
type Result struct {
	Matched     []string // names of the rules whose condition was true, in order
	AddFlags    []FlagChange
	RemoveFlags []FlagChange
	Copies      []Target
	Final       *Final  // nil: the message stays where it is
	Errors      []error // per-rule evaluation failures (*EvalError); those rules did nothing
	// Need, when not "", is the classifier whose verdict a rule reached
	// without having it (Message.Verdicts): nothing is decided, every
	// other field is empty, and the message must be evaluated again with
	// that verdict (or left alone when there is none to be had).
	Need string
}

// FlagChange is a flag to add or remove and the rule that asked for it.
type FlagChange struct {
	Flag, Rule string
}

// Target is a mailbox a message is copied to.
type Target struct {
	Mailbox string // "/"-separated path with templates expanded
	Rule    string
	// OwnFlags says that the copy is to have exactly Flags in Mailbox,
	// not the flags the source message has (a Sieve fileinto with flags
	// other than the kept message's). Expr rules leave it false.
	OwnFlags bool
	Flags    []string
}

// FinalKind is what finally happens to a message.
type FinalKind int

const (
	// FinalMove moves the message to Final.Mailbox.
	FinalMove FinalKind = iota
	// FinalDelete moves the message to the account's Trash.
	FinalDelete
	// FinalExpunge removes the message permanently.
	FinalExpunge
)

// String returns "move", "delete" or "expunge".
func (k FinalKind) String() string {
	switch k {
	case FinalMove:
		return "move"
	case FinalDelete:
		return "delete"
	case FinalExpunge:
		return "expunge"
	}
	return fmt.Sprintf("FinalKind(%d)", int(k))
}

// Final is the single final destination of a message.
type Final struct {
	Kind    FinalKind
	Mailbox string // for FinalMove
	Rule    string
}

// EvalError is a rule that could not be evaluated for a message (a runtime
// error in its condition or a template that expanded to nothing usable).
// The rule then does nothing for that message.
type EvalError struct {
	Rule string
	Err  error
}

// Error implements error.
func (e *EvalError) Error() string { return fmt.Sprintf("rule %q: %v", e.Rule, e.Err) }

// Unwrap returns the underlying error.
func (e *EvalError) Unwrap() error { return e.Err }
