// Package faultproxy is a small loopback TCP proxy for fault-injection
// tests: put it between a client and a server, then cut every connection
// (CutAll) or stop forwarding bytes while keeping the connections open
// (Pause, Resume) to simulate a peer that has gone silent.
//
// The proxy listens on 127.0.0.1 only and only forwards to loopback
// targets. It holds at most MaxConns connections at once (further ones are
// closed at once) and a fixed-size buffer per direction.
package faultproxy

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// MaxConns is the most client connections a Proxy serves at once.
const MaxConns = 64

const (
	bufferSize  = 32 << 10
	dialTimeout = 5 * time.Second
)

// Proxy forwards TCP connections from Addr to a target. Its methods are
// safe for concurrent use.
type Proxy struct {
	target string
	ln     net.Listener
	wg     sync.WaitGroup

	mu     sync.Mutex
	links  map[*link]struct{}
	gate   chan struct{} // non-nil while paused; closed by Resume
	closed bool
}

// link is one proxied connection: the client side and the target side.
type link struct {
	client, server net.Conn
	done           chan struct{} // closed when the link is cut
	once           sync.Once
}

func (l *link) cut() {
	l.once.Do(func() {
		close(l.done)
		l.client.Close()
		l.server.Close()
	})
}

// New starts a proxy on a free 127.0.0.1 port that forwards to target
// ("host:port"), which must be a loopback address or "localhost".
func New(target string) (*Proxy, error) {
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: target %q: %w", target, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("faultproxy: target %q is not a loopback address", target)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p := &Proxy{target: target, ln: ln, links: map[*link]struct{}{}}
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr returns the address clients connect to (127.0.0.1:PORT).
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Conns returns the number of live proxied connections.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

// CutAll closes every live connection on both sides: clients and the
// target see their connection end (EOF or reset). New connections are
// still accepted afterwards.
func (p *Proxy) CutAll() {
	p.mu.Lock()
	links := make([]*link, 0, len(p.links))
	for l := range p.links {
		links = append(links, l)
	}
	p.mu.Unlock()
	for _, l := range links {
		l.cut()
	}
}

// Pause stops forwarding bytes in both directions on every connection,
// current and new, while keeping them open. Data sent meanwhile is held
// (in the proxy's buffers and the kernel's) until Resume.
func (p *Proxy) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gate == nil {
		p.gate = make(chan struct{})
	}
}

// Resume restarts forwarding after Pause.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gate != nil {
		close(p.gate)
		p.gate = nil
	}
}

// Close stops accepting, cuts every connection and waits for the proxy's
// goroutines to end. It is safe to call more than once.
func (p *Proxy) Close() error {
	p.mu.Lock()
	already := p.closed
	p.closed = true
	p.mu.Unlock()
	var err error
	if !already {
		err = p.ln.Close()
	}
	p.CutAll()
	p.wg.Wait()
	if err != nil {
		return fmt.Errorf("faultproxy: close: %w", err)
	}
	return nil
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Temporary failure (e.g. out of descriptors): back off.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		p.wg.Add(1)
		go p.serve(client)
	}
}

// serve dials the target for client and forwards until either side ends
// or the link is cut.
func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	p.mu.Lock()
	full := p.closed || len(p.links) >= MaxConns
	p.mu.Unlock()
	if full {
		client.Close()
		return
	}
	server, err := net.DialTimeout("tcp", p.target, dialTimeout)
	if err != nil {
		client.Close()
		return
	}
	l := &link{client: client, server: server, done: make(chan struct{})}
	p.mu.Lock()
	if p.closed || len(p.links) >= MaxConns {
		p.mu.Unlock()
		l.cut()
		return
	}
	p.links[l] = struct{}{}
	p.mu.Unlock()

	var dirs sync.WaitGroup
	dirs.Add(2)
	go func() { defer dirs.Done(); p.forward(l, server, client) }()
	go func() { defer dirs.Done(); p.forward(l, client, server) }()
	dirs.Wait()
	l.cut()
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
}

// forward copies src to dst, holding each chunk while the proxy is
// paused. At EOF it half-closes dst so the other side sees the end.
func (p *Proxy) forward(l *link, dst, src net.Conn) {
	buf := make([]byte, bufferSize)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.waitRunning(l) {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				l.cut()
				return
			}
		}
		if err != nil {
			if tc, ok := dst.(*net.TCPConn); ok {
				tc.CloseWrite()
			} else {
				l.cut()
			}
			return
		}
	}
}

// waitRunning blocks while the proxy is paused. It returns false if the
// link was cut meanwhile.
func (p *Proxy) waitRunning(l *link) bool {
	for {
		p.mu.Lock()
		gate := p.gate
		p.mu.Unlock()
		if gate == nil {
			select {
			case <-l.done:
				return false
			default:
				return true
			}
		}
		select {
		case <-gate:
		case <-l.done:
			return false
		}
	}
}
