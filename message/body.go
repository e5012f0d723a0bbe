package message

import (
	"bytes"
	"encoding/base64"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"regexp"
	"strings"
)

// DefaultBodyLimit is how much decoded body text Decoder.Body returns
// when it is given no limit.
const DefaultBodyLimit = 64 << 10

// maxMIMEDepth bounds multipart nesting.
const maxMIMEDepth = 20

// Attachment describes a non-text part of a message. The expr tags name its
// fields in rule expressions: filename, contentType and size.
type Attachment struct {
	Filename    string `expr:"filename"`    // decoded; may be empty
	ContentType string `expr:"contentType"` // lower-case media type, e.g. "application/pdf"
	Size        int    `expr:"size"`        // decoded size in bytes (of what was fetched)
}

// bodyParser walks a MIME tree (RFC 2045, RFC 2046) collecting the first
// text part and the attachments. It is lenient: a truncated or malformed
// message yields what could be read.
type bodyParser struct {
	dec         *Decoder
	limit       int
	plain, html string
	havePlain   bool
	haveHTML    bool
	attachments []Attachment
}

// Body reads a whole message (header and body, possibly truncated). It
// returns the text of the first text/plain part (or, without one, of the
// first text/html part with its markup removed), decoded from its transfer
// encoding and charset and cut to limit bytes (DefaultBodyLimit when limit
// is 0 or less), and the message's attachments: the parts that are not
// inline text/plain or text/html, with their decoded size. Other inline
// text parts (text/calendar...) are neither.
func (d *Decoder) Body(raw []byte, limit int) (string, []Attachment) {
	if len(raw) == 0 {
		return "", nil
	}
	if limit <= 0 {
		limit = DefaultBodyLimit
	}
	hdr, body := SplitHeader(raw)
	var idx Header
	idx.Parse(hdr)
	p := &bodyParser{dec: d, limit: limit}
	p.walk(idx.Get, body, 0)
	text := p.plain
	if !p.havePlain {
		text = htmlToText(p.html)
	}
	if len(text) > limit {
		text = strings.ToValidUTF8(text[:limit], "")
	}
	return text, p.attachments
}

func (p *bodyParser) walk(get func(string) string, body []byte, depth int) {
	mediaType, params, err := mime.ParseMediaType(get("Content-Type"))
	if err != nil || mediaType == "" {
		mediaType, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(mediaType, "multipart/") && depth < maxMIMEDepth {
		boundary := params["boundary"]
		if boundary == "" {
			return
		}
		mr := multipart.NewReader(bytes.NewReader(body), boundary)
		for {
			part, err := mr.NextRawPart()
			if err != nil {
				return // end, or truncated/malformed: keep what we have
			}
			data, _ := io.ReadAll(part) // a truncated part still counts
			h := part.Header
			p.walk(h.Get, data, depth+1)
		}
	}
	disposition, dparams, _ := mime.ParseMediaType(get("Content-Disposition"))
	filename := dparams["filename"]
	if filename == "" {
		filename = params["name"]
	}
	filename = p.dec.Text(filename)
	isText := mediaType == "text/plain" || mediaType == "text/html"
	if disposition != "attachment" && isText && filename == "" {
		if mediaType == "text/plain" && !p.havePlain {
			p.plain, p.havePlain = p.decodeText(get, body, params["charset"]), true
		} else if mediaType == "text/html" && !p.haveHTML {
			p.html, p.haveHTML = p.decodeText(get, body, params["charset"]), true
		}
		return
	}
	if disposition != "attachment" && strings.HasPrefix(mediaType, "text/") && filename == "" {
		return // other inline text (text/calendar, text/enriched...): not an attachment
	}
	n, _ := io.Copy(io.Discard, transferDecoder(get("Content-Transfer-Encoding"), body))
	p.attachments = append(p.attachments, Attachment{Filename: filename, ContentType: mediaType, Size: int(n)})
}

// decodeText decodes a text part's transfer encoding and charset.
func (p *bodyParser) decodeText(get func(string) string, body []byte, charset string) string {
	r := io.LimitReader(transferDecoder(get("Content-Transfer-Encoding"), body), int64(p.limit)+4)
	data, _ := io.ReadAll(r)
	return convertCharset(charset, data)
}

// transferDecoder undoes a Content-Transfer-Encoding (RFC 2045 section 6).
func transferDecoder(cte string, body []byte) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		return quotedprintable.NewReader(bytes.NewReader(body))
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &base64Cleaner{r: bytes.NewReader(body)})
	}
	return bytes.NewReader(body)
}

// base64Cleaner drops bytes that are not in the base64 alphabet (spaces,
// stray characters), which real mail contains and the decoder rejects.
type base64Cleaner struct{ r io.Reader }

func (c *base64Cleaner) Read(p []byte) (int, error) {
	for {
		n, err := c.r.Read(p)
		k := 0
		for _, b := range p[:n] {
			if ('A' <= b && b <= 'Z') || ('a' <= b && b <= 'z') || ('0' <= b && b <= '9') || b == '+' || b == '/' || b == '=' {
				p[k] = b
				k++
			}
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}

// Markup that htmlToText removes: scripts and styles with their content,
// then every tag.
var (
	scriptStyleRE = regexp.MustCompile(`(?is)<(script|style)\b.*?</(script|style)\s*>`)
	tagRE         = regexp.MustCompile(`(?s)<[^>]*>`)
)

// htmlToText removes markup, scripts and styles and unescapes entities.
func htmlToText(s string) string {
	if s == "" {
		return ""
	}
	s = scriptStyleRE.ReplaceAllString(s, " ")
	s = tagRE.ReplaceAllString(s, " ")
	s = html.UnescapeString(s)
	return strings.Join(strings.Fields(s), " ")
}
