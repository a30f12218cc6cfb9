package trap

import (
	"math"
	"strconv"
	"time"
)

// appendTenths appends v, a number already rounded to one decimal, exactly as
// strconv.AppendFloat(b, v, 'f', -1, 64) would ("100", "-3.5"), without the
// general float-formatting machinery: payload generation is on k6's hot path.
func appendTenths(b []byte, v float64) []byte {
	n := math.Round(v * 10)
	if n != v*10 || math.Abs(n) >= 1e15 { // not a tenth: the general path
		return strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	t := int64(n)
	if t < 0 || math.Signbit(v) {
		b = append(b, '-')
		t = -t
	}
	b = strconv.AppendInt(b, t/10, 10)
	if d := t % 10; d != 0 {
		b = append(b, '.', byte('0'+d))
	}
	return b
}

// appendRFC3339 appends a UTC time with whole seconds as RFC 3339
// ("2026-01-01T00:00:01Z"), like t.AppendFormat(b, time.RFC3339) for such times.
func appendRFC3339(b []byte, t time.Time) []byte {
	if t.Location() != time.UTC || t.Nanosecond() != 0 || t.Year() < 1000 || t.Year() > 9999 {
		return t.AppendFormat(b, time.RFC3339)
	}
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = appendPad(b, y, 4)
	b = append(b, '-')
	b = appendPad(b, int(mo), 2)
	b = append(b, '-')
	b = appendPad(b, d, 2)
	b = append(b, 'T')
	b = appendPad(b, h, 2)
	b = append(b, ':')
	b = appendPad(b, mi, 2)
	b = append(b, ':')
	b = appendPad(b, s, 2)
	return append(b, 'Z')
}

func appendPad(b []byte, v, width int) []byte {
	var buf [4]byte
	for i := width - 1; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, buf[:width]...)
}
