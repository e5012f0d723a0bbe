package imap

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
)

// Quota resource names (RFC 9208 section 5). STORAGE is counted in units
// of 1024 octets.
const (
	QuotaStorage           = "STORAGE"            // section 5.1
	QuotaMessage           = "MESSAGE"            // section 5.2
	QuotaMailbox           = "MAILBOX"            // section 5.3
	QuotaAnnotationStorage = "ANNOTATION-STORAGE" // section 5.4
)

// Quota is one resource of a quota root (RFC 9208 section 4.2.1): current
// usage and limit, in the resource's units.
type Quota struct {
	Resource string // upper-case, e.g. QuotaStorage
	Usage    uint64
	Limit    uint64
}

// QuotaRoot is a quota root and its resources.
type QuotaRoot struct {
	Name   string
	Quotas []Quota
}

// QuotaRootData is the answer to GETQUOTAROOT (RFC 9208 section 4.1.2):
// the quota roots of Mailbox, in the server's order, each with the
// resources the server reported for it.
type QuotaRootData struct {
	Mailbox string
	Roots   []QuotaRoot
}

func (c *Client) requireQuota(cmd string) error {
	if !c.Has(CapQuota) {
		return notSupported(cmd, CapQuota)
	}
	return nil
}

// quotaHandler parses "* QUOTA root (resource usage limit ...)" (RFC 9208
// section 5.1) into *roots, merging resources of a root sent twice.
func quotaHandler(roots *[]QuotaRoot) func(d *imapwire.Decoder, _ uint32) error {
	return func(d *imapwire.Decoder, _ uint32) error {
		if err := d.SP(); err != nil {
			return err
		}
		name, err := d.AString()
		if err != nil {
			return err
		}
		root := QuotaRoot{Name: string(name)}
		if err := d.SP(); err != nil {
			return err
		}
		var q Quota
		i := 0
		err = d.List(func() error {
			defer func() { i++ }()
			switch i % 3 {
			case 0:
				a, err := d.Atom()
				q = Quota{Resource: strings.ToUpper(string(a))}
				return err
			case 1:
				q.Usage, err = d.Number64()
				return err
			}
			q.Limit, err = d.Number64()
			root.Quotas = append(root.Quotas, q)
			return err
		})
		if err != nil {
			return err
		}
		if i%3 != 0 {
			return &imapwire.SyntaxError{Msg: "QUOTA resource list is incomplete"}
		}
		if k := slices.IndexFunc(*roots, func(r QuotaRoot) bool { return r.Name == root.Name }); k >= 0 {
			(*roots)[k].Quotas = append((*roots)[k].Quotas, root.Quotas...)
		} else {
			*roots = append(*roots, root)
		}
		return d.CRLF()
	}
}

// GetQuota sends GETQUOTA root (RFC 9208 section 4.1.1) and returns the
// root's resources with their usage and limits. It needs the QUOTA
// capability.
func (c *Client) GetQuota(ctx context.Context, root string) (*QuotaRoot, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.requireQuota("getquota"); err != nil {
		return nil, err
	}
	var roots []QuotaRoot
	cmd := &command{name: "GETQUOTA", on: handlers{"QUOTA": quotaHandler(&roots)}}
	_, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom("GETQUOTA ")
		return b.astring(root)
	})
	if err != nil {
		return nil, err
	}
	for _, r := range roots {
		if r.Name == root {
			return &r, nil
		}
	}
	if len(roots) == 1 {
		return &roots[0], nil
	}
	return &QuotaRoot{Name: root}, nil
}

// GetQuotaRoot sends GETQUOTAROOT mailbox (RFC 9208 section 4.1.2) and
// returns the mailbox's quota roots with their resources. It needs the
// QUOTA capability.
func (c *Client) GetQuotaRoot(ctx context.Context, mailbox string) (*QuotaRootData, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.requireQuota("getquotaroot"); err != nil {
		return nil, err
	}
	data := &QuotaRootData{Mailbox: mailbox, Roots: []QuotaRoot{}}
	var quotas []QuotaRoot
	cmd := &command{name: "GETQUOTAROOT", on: handlers{
		// * QUOTAROOT mailbox *(SP root), section 5.2
		"QUOTAROOT": func(d *imapwire.Decoder, _ uint32) error {
			if err := d.SP(); err != nil {
				return err
			}
			if _, err := d.AString(); err != nil {
				return err
			}
			for !d.AtEOL() {
				name, err := d.AString()
				if err != nil {
					return err
				}
				data.Roots = append(data.Roots, QuotaRoot{Name: string(name)})
			}
			return d.CRLF()
		},
		"QUOTA": quotaHandler(&quotas),
	}}
	_, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom("GETQUOTAROOT ")
		return b.mailbox(mailbox)
	})
	if err != nil {
		return nil, err
	}
	for i := range data.Roots {
		for _, q := range quotas {
			if q.Name == data.Roots[i].Name {
				data.Roots[i].Quotas = q.Quotas
			}
		}
	}
	return data, nil
}

// SetQuota sends SETQUOTA root (resource limit ...) (RFC 9208 section
// 4.1.3), resources in sorted order, and returns the root as the server
// reports it afterwards (nil if it sent no QUOTA response). An empty limits
// removes every limit. Servers usually reserve SETQUOTA for
// administrators. It needs the QUOTA capability.
func (c *Client) SetQuota(ctx context.Context, root string, limits map[string]uint64) (*QuotaRoot, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.requireQuota("setquota"); err != nil {
		return nil, err
	}
	var roots []QuotaRoot
	cmd := &command{name: "SETQUOTA", on: handlers{"QUOTA": quotaHandler(&roots)}}
	_, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom("SETQUOTA ")
		if err := b.astring(root); err != nil {
			return err
		}
		b.raw(" (")
		upper := make(map[string]uint64, len(limits))
		for res, limit := range limits {
			if !imapwire.IsAtom(res) {
				return fmt.Errorf("invalid quota resource %q", res)
			}
			upper[strings.ToUpper(res)] = limit
		}
		for i, res := range slices.Sorted(maps.Keys(upper)) {
			if i > 0 {
				b.sp()
			}
			b.atom(res)
			b.sp()
			b.number64(upper[res])
		}
		b.raw(")")
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(roots) == 0 {
		return nil, nil
	}
	return &roots[0], nil
}
