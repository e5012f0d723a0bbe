package message

import (
	"reflect"
	"testing"
)

func TestAddressList(t *testing.T) {
	dec := NewDecoder()
	tests := []struct {
		in   string
		want []Address
	}{
		{``, nil},
		{`a@example.com`, []Address{{Addr: "a@example.com", Local: "a", Domain: "example.com"}}},
		{`"Doe, J." <j@Example.COM>`, []Address{{Name: "Doe, J.", Addr: "j@example.com", Local: "j", Domain: "example.com"}}},
		{`=?utf-8?q?J=C3=B6rg?= <j@x.org>, Zoë <z@x.org>`, []Address{
			{Name: "Jörg", Addr: "j@x.org", Local: "j", Domain: "x.org"},
			{Name: "Zoë", Addr: "z@x.org", Local: "z", Domain: "x.org"},
		}},
		{`MAILER-DAEMON`, []Address{{Addr: "MAILER-DAEMON", Local: "MAILER-DAEMON"}}},
	}
	for _, tc := range tests {
		if got := dec.AddressList(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("AddressList(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestAddressListFallback(t *testing.T) {
	dec := NewDecoder()
	tests := []struct {
		in   string
		want []string
	}{
		{`a@example.com`, []string{"a@example.com"}},
		{`"Doe, J." <j@Example.COM>`, []string{"j@example.com"}},
		{`team: a@x.org, b@y.org;`, []string{"a@x.org", "b@y.org"}},
		{`undisclosed-recipients:;`, nil},
		{`a@x.org,, ,b@y.org`, []string{"a@x.org", "b@y.org"}},
		{`Joe (comment) <joe@x.org>, <@route:bad>, MAILER-DAEMON`, []string{"joe@x.org", "MAILER-DAEMON"}},
		{`=?utf-8?q?J=C3=B6rg?= <j@x.org>; extra`, []string{"j@x.org", "extra"}},
	}
	for _, tc := range tests {
		var got []string
		for _, a := range dec.AddressList(tc.in) {
			got = append(got, a.Addr)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("AddressList(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAddressString(t *testing.T) {
	for _, tc := range []struct {
		a    Address
		want string
	}{
		{Address{Addr: "a@x.org"}, "a@x.org"},
		{Address{Name: "A B", Addr: "a@x.org"}, "A B <a@x.org>"},
	} {
		if got := tc.a.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.a, got, tc.want)
		}
	}
}
