package actions

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.uber.org/zap"

	"github.com/mailrules/mailrules/imap"
)

// DestMark is where a destination mailbox stood: its UIDVALIDITY (0 when
// unknown) and a UIDNEXT, so that messages put there afterwards have UIDs
// from UIDNext on (RFC 3501 section 2.3.1.1).
type DestMark struct {
	UIDValidity uint32 `json:"uidvalidity,omitempty"`
	UIDNext     uint32 `json:"uidnext"`
}

// Directory remembers the mailboxes a server has, its delimiter and its
// Trash between Execute calls on one connection. The zero value is ready
// to use; it is not safe for concurrent use.
type Directory struct {
	listed   bool
	existing map[string]bool // mailboxKey(name) -> exists
	delim    string
	trash    string // server name of the Trash, once resolved
}

// listMailboxes learns the existing mailboxes, the delimiter when not
// configured, and the Trash, with one LIST "" "*" (RFC 3501 section 6.3.8).
func (ex *executor) listMailboxes(ctx context.Context) error {
	ex.command()
	list, err := ex.mb.List(ctx, "", "*")
	if err != nil {
		return fmt.Errorf("LIST \"\" \"*\": %w", err)
	}
	specialTrash := ""
	for _, l := range list {
		if l.HasAttr(`\NonExistent`) {
			continue
		}
		ex.dir.existing[mailboxKey(l.Name)] = true
		if ex.opts.Delimiter == "" && ex.delim == "" && l.Delim != "" {
			ex.delim = l.Delim
		}
		if specialTrash == "" && l.HasAttr(`\Trash`) && !l.HasAttr(`\Noselect`) {
			specialTrash = l.Name
		}
	}
	switch {
	case ex.opts.Trash != "":
		ex.dir.trash = ex.opts.Trash
	case specialTrash != "":
		ex.dir.trash = specialTrash
	case ex.opts.Prefix != "" && ex.dir.existing[ex.opts.Prefix+"Trash"]:
		ex.dir.trash = ex.opts.Prefix + "Trash"
	case ex.dir.existing["Trash"]:
		ex.dir.trash = "Trash"
	default:
		ex.dir.trash = MailboxName("Trash", ex.delim, ex.opts.Prefix)
	}
	return nil
}

// destination maps a step's destination to the server's name.
func (ex *executor) destination(st *Step) string {
	if st.Kind == StepDelete {
		return ex.dir.trash
	}
	return MailboxName(st.Mailbox, ex.delim, ex.opts.Prefix)
}

// ensureMailbox creates name, and its missing parents first, unless it is
// known to exist. With force it creates name even if it was thought to exist
// (after a NO [TRYCREATE]).
func (ex *executor) ensureMailbox(ctx context.Context, name string, force bool) error {
	if !force && ex.dir.existing[mailboxKey(name)] {
		return nil
	}
	// RFC 3501 section 6.3.3: a server SHOULD create missing superiors
	// itself, but not all do; create them first.
	var parentErr error
	for _, parent := range parents(name, ex.delim) {
		if ex.dir.existing[mailboxKey(parent)] {
			continue
		}
		if err := ex.create(ctx, parent); err != nil && parentErr == nil {
			parentErr = err
		}
	}
	if err := ex.create(ctx, name); err != nil {
		if parentErr != nil {
			return fmt.Errorf("%w (creating a parent: %v)", err, parentErr)
		}
		return err
	}
	return nil
}

// create sends one CREATE; a NO [ALREADYEXISTS] (RFC 5530) counts as done.
func (ex *executor) create(ctx context.Context, name string) error {
	ex.command()
	err := ex.mb.Create(ctx, name)
	var ie *imap.Error
	if err != nil && errors.As(err, &ie) && strings.EqualFold(ie.Code, "ALREADYEXISTS") {
		ex.dir.existing[mailboxKey(name)] = true
		return nil
	}
	if err != nil {
		return fmt.Errorf("mailbox %q: %w", name, err)
	}
	ex.dir.existing[mailboxKey(name)] = true
	ex.report.Created = append(ex.report.Created, name)
	ex.log.Info("created mailbox", zap.String("destination", name))
	if ex.opts.Subscribe {
		sub, ok := ex.mb.(Subscriber)
		if !ok {
			ex.warn(fmt.Sprintf("cannot subscribe %q: the client has no SUBSCRIBE", name), zap.String("destination", name))
			return nil
		}
		ex.command()
		if err := sub.Subscribe(ctx, name); err != nil {
			ex.warn(fmt.Sprintf("SUBSCRIBE %q failed: %v", name, err), zap.String("destination", name))
		}
	}
	return nil
}

// learn notes in the report where dest stands after a copy or move the
// server answered with COPYUID.
func (ex *executor) learn(dest string, data *imap.CopyData) {
	if data == nil || data.UIDValidity == 0 || len(data.DestUIDs) == 0 {
		return
	}
	var top uint32
	for _, r := range data.DestUIDs {
		top = max(top, r.Start, r.Stop)
	}
	if ex.report.Dests == nil {
		ex.report.Dests = make(map[string]DestMark)
	}
	ex.report.Dests[dest] = ex.report.Dests[dest].Merge(DestMark{UIDValidity: data.UIDValidity, UIDNext: top + 1})
	ex.placed(dest, data.UIDValidity, data.DestUIDs)
}

// placed adds uids of dest to Report.Placed.
func (ex *executor) placed(dest string, uidValidity uint32, uids imap.SeqSet) {
	if ex.report.Placed == nil {
		ex.report.Placed = make(map[string]Placed)
	}
	p := ex.report.Placed[dest]
	if p.UIDValidity != uidValidity {
		p = Placed{UIDValidity: uidValidity}
	}
	p.UIDs = imap.SeqSetFromNums(append(p.UIDs.Nums(), uids.Nums()...)...)
	ex.report.Placed[dest] = p
}

// Merge returns the later of two marks of one destination: newer's, with
// the higher UIDNEXT of the two when the UIDVALIDITY is the same (a
// renumbered mailbox makes the old mark meaningless).
func (m DestMark) Merge(newer DestMark) DestMark {
	if m.UIDValidity == newer.UIDValidity {
		newer.UIDNext = max(newer.UIDNext, m.UIDNext)
	}
	return newer
}

// retryCreate runs do; when it fails with NO [TRYCREATE] (RFC 3501 section
// 6.4.7) it creates dest and runs do once more. A failed CREATE concerns
// every message of the step, not just this set: it comes back as a
// wholeSetError.
func (ex *executor) retryCreate(ctx context.Context, dest string, do func() error) error {
	err := do()
	if err == nil || !imap.IsTryCreate(err) {
		return err
	}
	ex.log.Info("destination missing, creating it", zap.String("destination", dest))
	if cerr := ex.ensureMailbox(ctx, dest, true); cerr != nil {
		return &wholeSetError{cerr}
	}
	return do()
}
