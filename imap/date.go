package imap

import (
	"fmt"
	"time"
)

// internalDateLayout is date-time of RFC 3501 section 9, with the day
// space-padded to two characters.
const internalDateLayout = "_2-Jan-2006 15:04:05 -0700"

// ParseInternalDate parses an INTERNALDATE value such as
// "17-Jul-1996 02:44:25 -0700" (the day may be space-padded or one digit).
func ParseInternalDate(s string) (time.Time, error) {
	t, ok := parseDateTime([]byte(s), nil)
	if !ok {
		return time.Time{}, fmt.Errorf("parse internal date %q: invalid date-time", s)
	}
	return t, nil
}

// FormatInternalDate formats t as an INTERNALDATE value (date-time, RFC
// 3501 section 9), e.g. " 7-Jul-1996 02:44:25 -0700", without quotes.
func FormatInternalDate(t time.Time) string {
	return t.Format(internalDateLayout)
}

var months = [12]string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}

// parseDateTime parses date-time without allocating: zones caches the
// fixed time zones by offset (may be nil).
func parseDateTime(b []byte, zones map[int]*time.Location) (time.Time, bool) {
	// trim surrounding spaces
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	i := 0
	num := func(width int) (int, bool) {
		if i+width > len(b) {
			return 0, false
		}
		n := 0
		for k := 0; k < width; k++ {
			c := b[i+k]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		i += width
		return n, true
	}
	expect := func(c byte) bool {
		if i < len(b) && b[i] == c {
			i++
			return true
		}
		return false
	}
	dayWidth := 2
	if len(b) > 1 && b[1] == '-' {
		dayWidth = 1
	}
	day, ok := num(dayWidth)
	if !ok || !expect('-') || i+3 > len(b) {
		return time.Time{}, false
	}
	month := 0
	for m, name := range months {
		if eqFold(b[i:i+3], name) {
			month = m + 1
			break
		}
	}
	i += 3
	if month == 0 || !expect('-') {
		return time.Time{}, false
	}
	year, ok1 := num(4)
	if !ok1 || !expect(' ') {
		return time.Time{}, false
	}
	hour, ok1 := num(2)
	ok2 := expect(':')
	minute, ok3 := num(2)
	ok4 := expect(':')
	sec, ok5 := num(2)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !expect(' ') || i >= len(b) {
		return time.Time{}, false
	}
	sign := 1
	switch b[i] {
	case '+':
	case '-':
		sign = -1
	default:
		return time.Time{}, false
	}
	i++
	zh, ok1 := num(2)
	zm, ok2 := num(2)
	if !ok1 || !ok2 || i != len(b) || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 || zm > 59 {
		return time.Time{}, false
	}
	offset := sign * (zh*3600 + zm*60)
	loc, ok := zones[offset]
	if !ok {
		if offset == 0 {
			loc = time.UTC
		} else {
			loc = time.FixedZone("", offset)
		}
		if zones != nil && len(zones) < 64 {
			zones[offset] = loc
		}
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, loc), true
}
