package imap

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
)

// NotifyFilter names the mailboxes an event group of NOTIFY SET applies
// to (RFC 5465 section 6).
type NotifyFilter string

// Mailbox filters of NOTIFY SET.
const (
	// NotifySelected is the selected mailbox: its events arrive as the
	// usual EXISTS, EXPUNGE and FETCH responses (section 6.1).
	NotifySelected NotifyFilter = "SELECTED"
	// NotifySelectedDelayed is NotifySelected with expunges held back
	// until a command that allows them (section 6.2).
	NotifySelectedDelayed NotifyFilter = "SELECTED-DELAYED"
	// NotifyInboxes are the mailboxes mail is delivered to (section 6.3).
	NotifyInboxes NotifyFilter = "INBOXES"
	// NotifyPersonal is every mailbox in the personal namespace(s)
	// (section 6.4).
	NotifyPersonal NotifyFilter = "PERSONAL"
	// NotifySubscribed is every subscribed mailbox (section 6.5).
	NotifySubscribed NotifyFilter = "SUBSCRIBED"
	// NotifySubtree is the listed mailboxes and all below them
	// (section 6.6).
	NotifySubtree NotifyFilter = "SUBTREE"
	// NotifyMailboxes is exactly the listed mailboxes (section 6.7).
	NotifyMailboxes NotifyFilter = "MAILBOXES"
)

// NotifyEvent is an event NOTIFY SET asks for (RFC 5465 section 5).
type NotifyEvent string

// Events of NOTIFY SET. MessageNew and MessageExpunge go together, and
// FlagChange (or AnnotationChange) needs both (RFC 5465 section 5).
const (
	EventMessageNew         NotifyEvent = "MessageNew"         // section 5.2
	EventMessageExpunge     NotifyEvent = "MessageExpunge"     // section 5.3
	EventFlagChange         NotifyEvent = "FlagChange"         // section 5.1
	EventAnnotationChange   NotifyEvent = "AnnotationChange"   // section 5.1
	EventMailboxName        NotifyEvent = "MailboxName"        // section 5.4
	EventSubscriptionChange NotifyEvent = "SubscriptionChange" // section 5.5
)

// NotifyGroup is one event group of NOTIFY SET: which mailboxes, and which
// of their events the server reports.
type NotifyGroup struct {
	Filter NotifyFilter
	// Mailboxes are the names NotifySubtree and NotifyMailboxes apply to;
	// the other filters take none.
	Mailboxes []string
	// Events are reported for these mailboxes; none means "NONE": the
	// server reports nothing for them.
	Events []NotifyEvent
	// FetchAtt, only with NotifySelected or NotifySelectedDelayed and
	// EventMessageNew, asks the server to send these FETCH items (such as
	// "UID", "FLAGS") with each new message (RFC 5465 section 5.2).
	FetchAtt []string
}

// NotifyOptions is the argument of NOTIFY SET.
type NotifyOptions struct {
	// Status asks the server for a STATUS response for every mailbox of
	// the non-selected groups at once (RFC 5465 section 3.1), delivered as
	// UpdateStatus, so that no change between listing them and NOTIFY SET
	// goes unseen.
	Status bool
	Groups []NotifyGroup
}

// Response codes of NOTIFY (RFC 5465 section 7).
const (
	// CodeBadEvent is the tagged NO to a NOTIFY SET with an event the
	// server does not support; its arguments list the ones it does.
	CodeBadEvent = "BADEVENT"
	// CodeNotificationOverflow in an untagged OK means the server has
	// stopped sending notifications (as after NOTIFY NONE): the client
	// must resynchronize and NOTIFY SET again.
	CodeNotificationOverflow = "NOTIFICATIONOVERFLOW"
)

// NotifySet sends NOTIFY SET (RFC 5465 section 3.1). From then on, the
// server reports the groups' events for other mailboxes at any time (the
// client asks it to between commands, during IDLE, NOOP or other
// commands): STATUS responses arrive as UpdateStatus, LIST responses about
// created, renamed (ListData.OldName) and deleted (\NonExistent) mailboxes
// as UpdateMailbox, and a [NOTIFICATIONOVERFLOW] as UpdateOverflow, after
// which the server sends nothing more until the next NotifySet. A server
// that does not support an event answers NO [BADEVENT], returned as an
// *Error. NotifySet fails with ErrNotSupported when the server lacks
// NOTIFY. A nil opts is NOTIFY SET with no group, which the server
// treats like NOTIFY NONE.
func (c *Client) NotifySet(ctx context.Context, opts *NotifyOptions) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.Has(CapNotify) {
		return notSupported("notify", CapNotify)
	}
	if opts == nil {
		opts = &NotifyOptions{}
	}
	if err := checkNotify(opts); err != nil {
		return fmt.Errorf("imap: NOTIFY: %w", err)
	}
	// Registered before the command: with Status, the answers come
	// during it (RFC 5465 section 3.1).
	_, already := c.on["STATUS"]
	c.notifyRoutes(true)
	err := c.simple(ctx, "NOTIFY", func(b *builder) error {
		b.atom("NOTIFY SET")
		if opts.Status {
			b.atom(" STATUS")
		}
		for _, g := range opts.Groups {
			b.sp()
			if err := b.notifyGroup(&g); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		var ie *Error
		if errors.As(err, &ie) && !already {
			// Refused: the server notifies as it did before, which for a
			// first NOTIFY SET is not at all.
			c.notifyRoutes(false)
		}
		return err
	}
	return nil
}

// NotifyNone sends NOTIFY NONE (RFC 5465 section 3.2): the server stops
// sending notifications, except the usual ones about the selected mailbox.
func (c *Client) NotifyNone(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.Has(CapNotify) {
		return notSupported("notify", CapNotify)
	}
	if err := c.simple(ctx, "NOTIFY", func(b *builder) error { b.atom("NOTIFY NONE"); return nil }); err != nil {
		return err
	}
	c.notifyRoutes(false)
	return nil
}

// checkNotify rejects event groups the server would refuse anyway with a
// BAD (RFC 5465 section 5 and 8), before anything is sent.
func checkNotify(opts *NotifyOptions) error {
	for _, g := range opts.Groups {
		selected := g.Filter == NotifySelected || g.Filter == NotifySelectedDelayed
		switch g.Filter {
		case NotifySelected, NotifySelectedDelayed, NotifyInboxes, NotifyPersonal, NotifySubscribed:
			if len(g.Mailboxes) > 0 {
				return fmt.Errorf("filter %s takes no mailboxes", g.Filter)
			}
		case NotifySubtree, NotifyMailboxes:
			if len(g.Mailboxes) == 0 {
				return fmt.Errorf("filter %s needs at least one mailbox", g.Filter)
			}
		default:
			return fmt.Errorf("unknown filter %q", g.Filter)
		}
		has := map[NotifyEvent]bool{}
		for _, ev := range g.Events {
			if !imapwire.IsAtom(string(ev)) {
				return fmt.Errorf("invalid event %q", ev)
			}
			has[ev] = true
		}
		if has[EventMessageNew] != has[EventMessageExpunge] {
			return fmt.Errorf("filter %s: MessageNew and MessageExpunge go together (RFC 5465 section 5)", g.Filter)
		}
		if (has[EventFlagChange] || has[EventAnnotationChange]) && !has[EventMessageNew] {
			return fmt.Errorf("filter %s: FlagChange needs MessageNew and MessageExpunge (RFC 5465 section 5)", g.Filter)
		}
		if len(g.FetchAtt) > 0 && (!selected || !has[EventMessageNew]) {
			return fmt.Errorf("filter %s: fetch attributes only go with MessageNew on the selected mailbox", g.Filter)
		}
		for _, a := range g.FetchAtt {
			if a == "" || strings.ContainsAny(a, "\r\n") {
				return fmt.Errorf("invalid fetch attribute %q", a)
			}
		}
	}
	return nil
}

// notifyGroup sends one event-group: "(" filter-mailboxes SP events ")"
// (RFC 5465 section 8).
func (b *builder) notifyGroup(g *NotifyGroup) error {
	b.raw("(")
	b.atom(strings.ToLower(string(g.Filter)))
	if len(g.Mailboxes) > 0 {
		b.raw(" (")
		for i, name := range g.Mailboxes {
			if i > 0 {
				b.sp()
			}
			if err := b.mailbox(name); err != nil {
				return err
			}
		}
		b.raw(")")
	}
	if len(g.Events) == 0 {
		b.raw(" NONE)")
		return nil
	}
	b.raw(" (")
	for i, ev := range g.Events {
		if i > 0 {
			b.sp()
		}
		b.atom(string(ev))
		if ev == EventMessageNew && len(g.FetchAtt) > 0 {
			b.raw(" (" + strings.Join(g.FetchAtt, " ") + ")")
		}
	}
	b.raw("))")
	return nil
}

// notifyRoutes registers (on) or removes the connection's handlers for
// what NOTIFY sends about other mailboxes: STATUS and LIST responses
// (route.go, second in line after the command in flight).
func (c *Client) notifyRoutes(on bool) {
	if !on {
		delete(c.on, "STATUS")
		delete(c.on, "LIST")
		return
	}
	if c.on == nil {
		c.on = handlers{}
	}
	c.on["STATUS"] = func(d *imapwire.Decoder, _ uint32) error {
		s, err := c.readStatusLine(d)
		if err != nil {
			return err
		}
		c.deliver(Update{Kind: UpdateStatus, Status: s, Text: s.Mailbox})
		return nil
	}
	c.on["LIST"] = func(d *imapwire.Decoder, _ uint32) error {
		if err := d.SP(); err != nil {
			return err
		}
		l, err := c.readList(d)
		if err != nil {
			return err
		}
		if err := d.CRLF(); err != nil {
			return err
		}
		c.deliver(Update{Kind: UpdateMailbox, List: l, Text: l.Name})
		return nil
	}
}

// notifyOverflow handles an untagged [NOTIFICATIONOVERFLOW]: the server
// has stopped notifying (RFC 5465 section 5.8), so the handlers go, and
// the update tells the caller to resynchronize.
func (c *Client) notifyOverflow(s *status) {
	c.notifyRoutes(false)
	c.deliver(Update{Kind: UpdateOverflow, Text: s.text, Code: s.code})
}
