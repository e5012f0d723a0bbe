package message

import (
	"reflect"
	"strings"
	"testing"
)

func TestBody(t *testing.T) {
	dec := NewDecoder()
	multipart := "Content-Type: multipart/mixed; boundary=b\n\n" +
		"--b\n" +
		"Content-Type: text/plain; charset=iso-8859-1\n" +
		"Content-Transfer-Encoding: quoted-printable\n\n" +
		"Gr=FC=DFe =80\n" +
		"--b\n" +
		"Content-Type: text/calendar\n\n" +
		"BEGIN:VCALENDAR\n" +
		"--b\n" +
		"Content-Type: application/pdf\n" +
		"Content-Disposition: attachment; filename*=UTF-8''M%C3%A4rz.pdf\n" +
		"Content-Transfer-Encoding: base64\n\n" +
		"aGVs bG8=\n" + // a stray space, which real mail has
		"--b\n" +
		"Content-Type: text/plain; name=\"=?utf-8?q?n=C3=B6tes.txt?=\"\n\n" +
		"notes\n" +
		"--b--\n"
	tests := []struct {
		name        string
		raw         string
		limit       int
		text        string
		attachments []Attachment
	}{
		{"empty", "", 0, "", nil},
		{"header only", "Subject: x\r\n", 0, "", nil},
		{"plain, no Content-Type", "Subject: x\r\n\r\nhello\r\n", 0, "hello\r\n", nil},
		{"bare LF", "Subject: x\n\nhello\n", 0, "hello\n", nil},
		{"limit", "Content-Type: text/plain; charset=utf-8\r\n\r\nGrüße", 4, "Grü", nil},
		{"no charset: Windows-1252", "Subject: x\r\n\r\nGr\xfc\xdfe", 0, "Grüße", nil},
		{"html only", "Content-Type: text/html\r\n\r\n<p>Hallo <b>Welt</b> &amp; more</p><style>p{}</style>", 0, "Hallo Welt & more", nil},
		{"multipart", multipart, 0, "Grüße €", []Attachment{
			{Filename: "März.pdf", ContentType: "application/pdf", Size: 5},
			{Filename: "nötes.txt", ContentType: "text/plain", Size: 5}, // the line end before a boundary belongs to it
		}},
		{"multipart without boundary", "Content-Type: multipart/mixed\r\n\r\n--x\r\n", 0, "", nil},
		{"truncated multipart", "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\ncut off", 0, "cut off", nil},
	}
	for _, tc := range tests {
		text, attachments := dec.Body([]byte(tc.raw), tc.limit)
		if text != tc.text || !reflect.DeepEqual(attachments, tc.attachments) {
			t.Errorf("%s: Body = %q, %+v; want %q, %+v", tc.name, text, attachments, tc.text, tc.attachments)
		}
	}
}

func TestBodyDefaultLimit(t *testing.T) {
	raw := "\r\n" + strings.Repeat("x", DefaultBodyLimit+10)
	if text, _ := NewDecoder().Body([]byte(raw), 0); len(text) != DefaultBodyLimit {
		t.Errorf("Body(%d bytes, 0) = %d bytes, want %d", len(raw), len(text), DefaultBodyLimit)
	}
}
