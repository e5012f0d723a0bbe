// Package classify asks spam classifiers about messages and teaches them.
//
// Supported classifiers:
//   - rspamd, over its HTTP protocol (/checkv2 on the normal worker,
//     /learnspam and /learnham on the controller),
//   - SpamAssassin's spamd, over the SPAMC/1.5 protocol (SYMBOLS, TELL),
//   - command: any program, the message on its standard input.
//
// A classifier never invents a verdict: when it cannot be reached, times
// out or answers something that cannot be parsed, Classify returns an
// error, and the caller must leave the message alone and try again later.
//
// What lives where:
//
//   - classify.go: the [Classifier] interface, [Verdict], [Class],
//     [ErrUnavailable].
//   - config.go: [Config] (what a [[classifier]] table says), the defaults,
//     [New] and the [Set] of configured classifiers by name.
//   - limit.go: what every client shares: the concurrency slots, the
//     per-request timeout, the size limit, the errors wrapping
//     ErrUnavailable, [ErrAlreadyLearned].
//   - rspamd.go, spamd.go, command.go: one client each ([Rspamd], [Spamd],
//     [Command]).
//
// The tests run against a real rspamd (test/rspamdtest) and a real spamd
// (test/spamdtest), and against hostile servers for the failures.
package classify

import (
	"context"
	"errors"
)

// Class is what a message is learned as.
type Class int

const (
	// Spam is unwanted mail.
	Spam Class = iota + 1
	// Ham is wanted mail.
	Ham
)

// String returns "spam" or "ham".
func (c Class) String() string {
	switch c {
	case Spam:
		return "spam"
	case Ham:
		return "ham"
	}
	return "unknown"
}

// Verdict is a classifier's answer about one message.
type Verdict struct {
	Classifier string   // the classifier's configured name
	Score      float64  // the message's score
	Required   float64  // the score from which the classifier calls it spam
	Action     string   // rspamd's action ("no action", "add header", "reject"...); "spam" or "ham" for spamd and commands
	Spam       bool     // the classifier's own spam decision
	Symbols    []string // names of the rules (symbols, tests) that fired, sorted
	// Skipped is true when the message was not sent because it is larger
	// than the classifier's max_size; Score is then 0 and Spam false, and
	// the rule sees skipped == true.
	Skipped bool
}

// Classifier is one configured classifier. Implementations are safe for
// concurrent use and bound their own concurrency.
type Classifier interface {
	// Name returns the configured name.
	Name() string
	// MaxSize returns the largest message, in bytes, that is sent.
	MaxSize() int64
	// Classify returns the verdict on msg, a whole RFC 5322 message. A
	// message over MaxSize is not sent: the verdict has Skipped set.
	Classify(ctx context.Context, msg []byte) (*Verdict, error)
	// Learn teaches the classifier that msg is of class c.
	Learn(ctx context.Context, msg []byte, c Class) error
}

// ErrUnavailable wraps every error that means "no verdict": the
// classifier could not be reached, timed out, or answered garbage.
var ErrUnavailable = errors.New("classifier unavailable")
