// Package actions turns the per-message decisions of the rules for one
// mailbox into a Plan of a few batched IMAP commands and executes it safely.
//
// A Plan is plain, JSON-serializable data. Its steps run in a fixed order:
//
//  1. flag changes: one UID STORE +FLAGS.SILENT per group of flags that apply
//     to the same messages, then one UID STORE -FLAGS.SILENT per group;
//  2. copies, one UID COPY per destination;
//  3. moves, one UID MOVE per destination;
//  4. deletions, a move to the Trash mailbox;
//  5. permanent expunges, UID STORE +FLAGS.SILENT (\Deleted) then UID EXPUNGE;
//  6. flags of copies that are to have their own (Step.CopyFlags, from a
//     Sieve fileinto): per destination a SELECT, one UID STORE FLAGS.SILENT
//     per set of flags on the UIDs COPYUID named (RFC 4315 section 3), and
//     the source selected again. These only change flags of copies, never
//     \Deleted; without COPYUID the copies keep the source's flags.
//
// Every step's UID set is compressed into ranges and split at execution so
// that no command line exceeds about 8 KB (RFC 7162 section 4), so the number
// of commands does not grow with the number of messages.
//
// One bad message or one vanished message never holds back the others: when
// the server refuses a command, Execute asks which of its messages still
// exist (another client may have expunged some), retries without the
// vanished ones, and halves the set until the messages the server refuses
// are isolated. Those are reported (Report.Failed) and left alone by the
// later steps, so a message whose copy failed is never moved away.
//
// Copies are exactly once across crashes and repeated passes: the engine
// records each copy destination's UIDNEXT before the first copy into it
// (Options.OnCopyStart), and before copying messages an earlier pass may
// have copied already (Options.Dedupe) Execute compares them with the
// destination's messages from that UID on, by Message-ID and size, and
// copies only the missing ones.
//
// Safety rules, which no option relaxes:
//
//   - A move uses UID MOVE (RFC 6851) when the server advertises MOVE.
//     Otherwise it is UID COPY, then UID STORE +FLAGS.SILENT (\Deleted) of the
//     same UIDs, then UID EXPUNGE of exactly those UIDs (RFC 4315, UIDPLUS).
//     The copy always completes before any \Deleted flag is set, and a failed
//     copy sets none (RFC 3501 section 6.4.7: a failed COPY leaves the
//     destination unchanged).
//   - A bare EXPUNGE (RFC 3501 section 6.4.3), which would also remove
//     messages other clients marked \Deleted, is sent only when
//     Options.AllowExpunge is set and the server lacks UIDPLUS. Without
//     either, messages are left marked \Deleted and the Report says so.
//   - A delete whose source mailbox is the Trash leaves the message in place
//     (with a warning) rather than expunging it.
//
// Destination mailboxes are "/"-separated paths (as rules write them) mapped
// to the server's hierarchy delimiter and personal namespace prefix (see
// MailboxName). Missing ones, parents included, are created: from one
// LIST "" "*" at the start, and again on a NO [TRYCREATE] (RFC 3501 section
// 6.4.7) followed by one retry.
package actions
