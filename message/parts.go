package message

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"strings"
)

// Part is one leaf of a message's MIME tree (RFC 2045, RFC 2046): a part
// that is not multipart.
type Part struct {
	ContentType string            // lower-case media type, e.g. "text/plain"; text/plain when absent or unreadable
	Params      map[string]string // its parameters (charset, name...)
	// Body is the content with its Content-Transfer-Encoding undone, cut
	// to the limit given to Parts.
	Body []byte
}

// Parts returns the leaf parts of a whole message (header and body,
// possibly truncated), in order, with their transfer encoding undone and
// each body cut to limit bytes (DefaultBodyLimit when limit is 0 or less).
// It is lenient as Body is: a malformed or truncated message yields the
// parts that could be read.
func (d *Decoder) Parts(raw []byte, limit int) []Part {
	if limit <= 0 {
		limit = DefaultBodyLimit
	}
	hdr, body := SplitHeader(raw)
	var idx Header
	idx.Parse(hdr)
	var out []Part
	collectParts(idx.Get, body, limit, 0, &out)
	return out
}

func collectParts(get func(string) string, body []byte, limit, depth int, out *[]Part) {
	mediaType, params, err := mime.ParseMediaType(get("Content-Type"))
	if err != nil || mediaType == "" {
		mediaType, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		if depth >= maxMIMEDepth || params["boundary"] == "" {
			return
		}
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err != nil {
				return
			}
			data, _ := io.ReadAll(part)
			collectParts(part.Header.Get, data, limit, depth+1, out)
		}
	}
	data, _ := io.ReadAll(io.LimitReader(transferDecoder(get("Content-Transfer-Encoding"), body), int64(limit)))
	*out = append(*out, Part{ContentType: mediaType, Params: params, Body: data})
}

// Text returns a part's body as UTF-8 text, decoded from its charset
// parameter (Windows-1252 when it names none and the body is not UTF-8).
func (p Part) Text() string {
	return convertCharset(p.Params["charset"], p.Body)
}
