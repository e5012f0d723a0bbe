package imap

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
)

// Dial connects to an IMAP server over plain TCP; addr is host or host:port
// (default port 143). The connection is unencrypted: use StartTLS (or
// DialStartTLS / DialTLS) before logging in to anything but loopback.
func Dial(ctx context.Context, addr string, opts *Options) (*Client, error) {
	conn, err := dialTCP(ctx, withPort(addr, "143"), opts)
	if err != nil {
		return nil, err
	}
	c, err := newClient(ctx, conn, opts, false)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return c, nil
}

// DialTLS connects to an IMAP server over implicit TLS (RFC 8314); addr is
// host or host:port (default port 993). A nil cfg verifies the server's
// certificate against the system roots for the host name in addr; a cfg
// without ServerName gets it filled in.
func DialTLS(ctx context.Context, addr string, cfg *tls.Config, opts *Options) (*Client, error) {
	addr = withPort(addr, "993")
	conn, err := dialTCP(ctx, addr, opts)
	if err != nil {
		return nil, err
	}
	tconn := tls.Client(conn, tlsConfig(cfg, addr))
	hctx, cancel := context.WithTimeout(ctx, opts.dialTimeout())
	defer cancel()
	if err := tconn.HandshakeContext(hctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("dial %s: tls handshake: %w", addr, err)
	}
	c, err := newClient(ctx, tconn, opts, true)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return c, nil
}

// DialStartTLS connects like Dial and then upgrades the connection with
// STARTTLS. It fails, closing the connection, if the server does not offer
// STARTTLS: it never continues in plaintext.
func DialStartTLS(ctx context.Context, addr string, cfg *tls.Config, opts *Options) (*Client, error) {
	addr = withPort(addr, "143")
	c, err := Dial(ctx, addr, opts)
	if err != nil {
		return nil, err
	}
	if err := c.StartTLS(ctx, tlsConfig(cfg, addr)); err != nil {
		c.Close()
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return c, nil
}

// New returns a Client talking over conn and reads the server greeting
// (RFC 3501 section 7.1: OK, PREAUTH or BYE). A *tls.Conn counts as
// encrypted; other connections count as encrypted only if they are not
// network connections (pipes), or are to loopback for LOGIN purposes.
func New(conn io.ReadWriteCloser, opts *Options) (*Client, error) {
	_, isTLS := conn.(*tls.Conn)
	ctx, cancel := context.WithTimeout(context.Background(), opts.dialTimeout())
	defer cancel()
	return newClient(ctx, conn, opts, isTLS)
}

func withPort(addr, port string) string {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	return net.JoinHostPort(strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]"), port)
}

func tlsConfig(cfg *tls.Config, addr string) *tls.Config {
	if cfg == nil {
		cfg = &tls.Config{}
	} else {
		cfg = cfg.Clone()
	}
	if cfg.ServerName == "" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			cfg.ServerName = host
		}
	}
	return cfg
}

func dialTCP(ctx context.Context, addr string, opts *Options) (net.Conn, error) {
	// Probe an idle connection every KeepAlive and give up after three
	// unanswered probes, so a peer that vanished (NAT timeout, server
	// crash without RST) is noticed within a few periods even in IDLE,
	// rather than after the kernel's default of nine.
	ka := opts.keepAlive()
	d := net.Dialer{Timeout: opts.dialTimeout(), KeepAliveConfig: net.KeepAliveConfig{
		Enable: true, Idle: ka, Interval: ka / 3, Count: 3,
	}}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return conn, nil
}

func isLoopback(conn io.ReadWriteCloser) bool {
	nc, ok := conn.(net.Conn)
	if !ok {
		return false
	}
	switch a := nc.RemoteAddr().(type) {
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	case *net.UnixAddr:
		return true
	}
	return false
}
