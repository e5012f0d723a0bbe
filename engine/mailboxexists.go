package engine

import (
	"context"
	"fmt"

	"github.com/mailrules/mailrules/actions"
	"github.com/mailrules/mailrules/imap"
)

// mailboxExists returns what rules.Message.MailboxExists answers with in
// this pass, or nil when no rule asks (rules.Needs.Mailboxes). It lists
// the account's mailboxes once, before the fetch, with LIST "" "*" (RFC
// 3501 section 6.3.8): the answers do no I/O, since they are asked while
// the fetch streams on the same connection. A path exists when its
// server name (actions.MailboxName, under the personal namespace, as a
// move's destination) is listed and selectable: RFC 5490 section 3.1 asks
// that a message could be delivered into it, which a \Noselect mailbox
// cannot take.
func (p *mailboxPass) mailboxExists(ctx context.Context) (func(path string) bool, error) {
	if !p.rules.Needs().Mailboxes {
		return nil, nil
	}
	ns, err := p.namespace(ctx)
	if err != nil {
		return nil, err
	}
	list, err := p.client.List(ctx, "", "*")
	if err != nil {
		return nil, p.note(fmt.Errorf("list mailboxes for mailboxexists: %w", err))
	}
	existing := make(map[string]bool, len(list))
	for _, l := range list {
		if l.HasAttr(`\NonExistent`) || l.HasAttr(`\Noselect`) {
			continue
		}
		existing[imap.MailboxKey(l.Name)] = true
	}
	return func(path string) bool {
		name := actions.MailboxName(path, ns.delim, ns.prefix)
		return name != "" && existing[imap.MailboxKey(name)]
	}, nil
}
