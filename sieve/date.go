package sieve

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
)

// dateParts are the date-part names of RFC 5260 section 4.2.
var dateParts = map[string]bool{
	"year": true, "month": true, "day": true, "date": true, "julian": true,
	"hour": true, "minute": true, "second": true, "time": true,
	"iso8601": true, "std11": true, "zone": true, "weekday": true,
}

// parseDate reads a date header value (RFC 5322 section 3.3), keeping its zone.
func parseDate(v string) (time.Time, bool) {
	t, err := mail.ParseDate(strings.TrimSpace(v))
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// parseZone reads a +hhmm / -hhmm offset (RFC 5260 section 4.1).
func parseZone(z string) (*time.Location, bool) {
	if len(z) != 5 || (z[0] != '+' && z[0] != '-') {
		return nil, false
	}
	h, err1 := strconv.Atoi(z[1:3])
	m, err2 := strconv.Atoi(z[3:5])
	if err1 != nil || err2 != nil || m > 59 {
		return nil, false
	}
	off := (h*60 + m) * 60
	if z[0] == '-' {
		off = -off
	}
	return time.FixedZone(z, off), true
}

// inZone converts t to the :zone of the node, or the local zone without one
// (RFC 5260 section 4.1).
func (r *run) inZone(sc *scope, n *node, t time.Time) time.Time {
	if z, ok := n.tags["zone"]; ok {
		if loc, ok := parseZone(r.expand(sc, z.Strs[0].Value)); ok {
			return t.In(loc)
		}
		return t
	}
	return t.In(time.Local)
}

// datePart formats one date part (RFC 5260 section 4.2).
func datePart(t time.Time, part string) (string, bool) {
	switch part {
	case "year":
		return fmt.Sprintf("%04d", t.Year()), true
	case "month":
		return fmt.Sprintf("%02d", int(t.Month())), true
	case "day":
		return fmt.Sprintf("%02d", t.Day()), true
	case "date":
		return t.Format("2006-01-02"), true
	case "julian":
		// Modified Julian Day: days since 1858-11-17.
		y, m, d := t.Date()
		day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		epoch := time.Date(1858, 11, 17, 0, 0, 0, 0, time.UTC)
		return strconv.Itoa(int(day.Sub(epoch).Hours() / 24)), true
	case "hour":
		return fmt.Sprintf("%02d", t.Hour()), true
	case "minute":
		return fmt.Sprintf("%02d", t.Minute()), true
	case "second":
		return fmt.Sprintf("%02d", t.Second()), true
	case "time":
		return t.Format("15:04:05"), true
	case "iso8601":
		return t.Format("2006-01-02T15:04:05Z07:00"), true // RFC 3339: Z for a zero offset
	case "std11":
		return t.Format("Mon, 02 Jan 2006 15:04:05 -0700"), true
	case "zone":
		return t.Format("-0700"), true
	case "weekday":
		return strconv.Itoa(int(t.Weekday())), true
	}
	return "", false
}
