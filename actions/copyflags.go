package actions

import (
	"context"
	"fmt"
	"strings"

	"go.uber.org/zap"

	"github.com/mailrules/mailrules/imap"
)

// destFlags are copies in a destination that are to have exactly flags.
type destFlags struct {
	dest  string // server name
	flags []string
	uids  imap.SeqSet // in dest
}

// queueCopyFlags notes, after a copy step into dest, which copies are to
// get flags of their own (Step.CopyFlags), by their UIDs in dest as
// COPYUID said (ex.destUIDs). Copies the server named no UID for (no
// UIDPLUS) or that an earlier pass made (Options.Dedupe) keep the
// source's flags, with a warning.
func (ex *executor) queueCopyFlags(st *Step, dest string) {
	var unknown []uint32
	for _, cf := range st.CopyFlags {
		var uids []uint32
		for uid := range cf.UIDs.All() {
			if ex.gone[uid] {
				continue
			}
			if d, ok := ex.destUIDs[uid]; ok {
				uids = append(uids, d)
			} else {
				unknown = append(unknown, uid)
			}
		}
		if len(uids) > 0 {
			ex.copyFlags = append(ex.copyFlags, destFlags{dest: dest, flags: cf.Flags, uids: imap.SeqSetFromNums(uids...)})
		}
	}
	if len(unknown) > 0 {
		set := imap.SeqSetFromNums(unknown...)
		ex.warn(fmt.Sprintf("the copies of %d messages in %q keep the source's flags, not their own: the server did not say their UIDs there (COPYUID, RFC 4315), or an earlier pass made them",
			set.Count(), dest), zap.String("destination", dest), zap.Stringer("uids", set))
	}
}

// setCopyFlags gives copies their own flags once every step ran: per
// destination, SELECT it, one UID STORE FLAGS.SILENT per flag set (RFC
// 3501 section 6.4.6; the flags replace the ones the copy came with, and
// never include \Deleted), then SELECT the source again. A refused
// command leaves those copies with the source's flags and a warning; the
// messages themselves are all in place by then. It needs an Inspector.
func (ex *executor) setCopyFlags(ctx context.Context) error {
	if len(ex.copyFlags) == 0 {
		return nil
	}
	insp, ok := ex.mb.(Inspector)
	if !ok {
		ex.warn("cannot set the flags of copies: the client cannot select another mailbox")
		return nil
	}
	byDest := make(map[string][]destFlags)
	var dests []string
	for _, df := range ex.copyFlags {
		if _, ok := byDest[df.dest]; !ok {
			dests = append(dests, df.dest)
		}
		byDest[df.dest] = append(byDest[df.dest], df)
	}
	for _, dest := range dests {
		ex.command()
		if _, err := insp.Select(ctx, dest, nil); err != nil {
			if !refused(err) {
				return fmt.Errorf("select %q to set the flags of copies: %w", dest, err)
			}
			ex.warn(fmt.Sprintf("cannot select %q: its copies keep the source's flags: %v", dest, err), zap.String("destination", dest))
			continue
		}
		for _, df := range byDest[dest] {
			for _, set := range df.uids.Chunks(len(strings.Join(df.flags, " "))) {
				ex.command()
				err := ex.mb.UIDStore(ctx, set, imap.StoreReplace, true, df.flags)
				switch {
				case err == nil:
					ex.log.Info("set the flags of copies", zap.String("destination", dest),
						zap.Stringer("uids", set), zap.String("flags", strings.Join(df.flags, " ")))
				case refused(err):
					ex.warn(fmt.Sprintf("copies in %q keep the source's flags: %v", dest, err), zap.String("destination", dest), zap.Stringer("uids", set))
				default:
					return fmt.Errorf("set the flags of copies in %q: %w", dest, err)
				}
			}
		}
	}
	ex.command()
	back, err := insp.Select(ctx, ex.plan.Mailbox, nil)
	if err != nil {
		return fmt.Errorf("select %q again after setting the flags of copies: %w", ex.plan.Mailbox, err)
	}
	if ex.opts.UIDValidity != 0 && back.UIDValidity != ex.opts.UIDValidity {
		return fmt.Errorf("select %q again: UIDVALIDITY changed from %d to %d", ex.plan.Mailbox, ex.opts.UIDValidity, back.UIDValidity)
	}
	return nil
}
