package message

import (
	"strings"
	"testing"
)

func TestParts(t *testing.T) {
	raw := "Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=FC=DFe\r\n" +
		"--b\r\nContent-Type: multipart/alternative; boundary=c\r\n\r\n--c\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--c--\r\n" +
		"--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0x\r\n--b--\r\n"
	parts := NewDecoder().Parts([]byte(raw), 0)
	var got []string
	for _, p := range parts {
		body := string(p.Body)
		if strings.HasPrefix(p.ContentType, "text/") {
			body = p.Text()
		}
		got = append(got, p.ContentType+"="+strings.TrimSpace(body))
	}
	want := "text/plain=Grüße|text/html=<p>hi</p>|application/pdf=%PDF-1"
	if strings.Join(got, "|") != want {
		t.Errorf("Parts = %q, want %q", strings.Join(got, "|"), want)
	}
	if one := NewDecoder().Parts([]byte("Subject: x\r\n\r\nplain body"), 5); len(one) != 1 || string(one[0].Body) != "plain" || one[0].ContentType != "text/plain" {
		t.Errorf("Parts(single, limit 5) = %+v", one)
	}
}
