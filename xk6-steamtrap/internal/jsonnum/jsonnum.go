// Package jsonnum writes the numbers and times of the extension's payloads
// exactly as strconv and time would, without their general machinery:
// payload generation is on k6's hot path.
package jsonnum

import (
	"math"
	"strconv"
	"time"
)

// AppendTenths appends v, a number already rounded to one decimal, exactly as
// strconv.AppendFloat(b, v, 'f', -1, 64) would ("100", "-3.5"), without the
// general float-formatting machinery: payload generation is on k6's hot path.
func AppendTenths(b []byte, v float64) []byte {
	n := math.Round(v * 10)
	if n != v*10 || math.Abs(n) >= 1e15 { // not a tenth: the general path
		return strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	t := int64(n)
	if t < 0 || math.Signbit(v) {
		b = append(b, '-')
		t = -t
	}
	b = AppendUint(b, uint64(t/10))
	if d := t % 10; d != 0 {
		b = append(b, '.', byte('0'+d))
	}
	return b
}

// digitPairs holds "00" to "99".
const digitPairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// AppendUint appends u in decimal, like strconv.AppendUint(b, u, 10), with
// the values of a payload (below 10000) written without a loop.
func AppendUint(b []byte, u uint64) []byte {
	switch {
	case u < 10:
		return append(b, byte('0'+u))
	case u < 100:
		return append(b, digitPairs[2*u], digitPairs[2*u+1])
	case u < 1000:
		lo := u % 100
		return append(b, byte('0'+u/100), digitPairs[2*lo], digitPairs[2*lo+1])
	case u < 10000:
		hi, lo := u/100, u%100
		return append(b, digitPairs[2*hi], digitPairs[2*hi+1], digitPairs[2*lo], digitPairs[2*lo+1])
	}
	return strconv.AppendUint(b, u, 10)
}

// AppendRFC3339 appends a UTC time with whole seconds as RFC 3339
// ("2026-01-01T00:00:01Z"), like t.AppendFormat(b, time.RFC3339) for such times.
func AppendRFC3339(b []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	if t.Location() != time.UTC || t.Nanosecond() != 0 || y < 1000 || y > 9999 {
		return t.AppendFormat(b, time.RFC3339)
	}
	sec := t.Unix() % 86400
	if sec < 0 {
		sec += 86400
	}
	h, mi, s := sec/3600, sec/60%60, sec%60
	return append(b,
		digitPairs[2*(y/100)], digitPairs[2*(y/100)+1], digitPairs[2*(y%100)], digitPairs[2*(y%100)+1], '-',
		digitPairs[2*mo], digitPairs[2*mo+1], '-', digitPairs[2*d], digitPairs[2*d+1], 'T',
		digitPairs[2*h], digitPairs[2*h+1], ':', digitPairs[2*mi], digitPairs[2*mi+1], ':',
		digitPairs[2*s], digitPairs[2*s+1], 'Z')
}
