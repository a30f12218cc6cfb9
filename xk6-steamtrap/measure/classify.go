package measure

import "strconv"

// Transport error classes. A request that got an HTTP response is classed by
// its status code instead ("200", "503", ...).
const (
	// ClassTimeout: the request or its connection attempt timed out
	// (k6 error codes 1050 and 1211).
	ClassTimeout = "timeout"
	// ClassConnRefused: the target refused the TCP connection (1212).
	ClassConnRefused = "conn_refused"
	// ClassConnReset: the target reset or closed the connection under a
	// request (1220 reset by peer, 1201 broken pipe).
	ClassConnReset = "conn_reset"
	// ClassOtherError: any other transport error: DNS, TLS, HTTP/2, dial
	// errors other than the above, unexpected EOF (k6's generic 1000), ...
	ClassOtherError = "other_error"
	// ClassUnknown: k6 reported neither a status nor an error code because
	// both system tags were disabled (--system-tags without status and
	// error_code). Such requests count as OK.
	ClassUnknown = "unknown"
)

// k6's error codes (lib/netext/httpext/error_codes.go) that map to a class of
// their own. k6 sets error_code to 1000+status for HTTP statuses >= 400.
const (
	k6TCPBrokenPipe   = 1201
	k6RequestTimeout  = 1050
	k6TCPDialTimeout  = 1211
	k6TCPDialRefused  = 1212
	k6TCPResetByPeer  = 1220
	k6HTTPStatusFirst = 1400 // error_code of status 400
	k6HTTPStatusLast  = 1599 // error_code of status 599; 16xx are HTTP/2 errors
)

// Class is what one HTTP request came to: its class name and whether it
// counts as OK (a status below 400 and no error).
type Class struct {
	Name string
	OK   bool
}

// Classify derives a request's class from the values of k6's "status" and
// "error_code" tags on its http_reqs sample ("" when a tag is absent):
//   - a status other than 0 is the class itself, OK when below 400 and k6
//     reported no error code;
//   - status 0 (or none) with an error code is a transport error, classed by
//     code: timeout, conn_refused, conn_reset or other_error; codes 1400–1599
//     (status tag disabled) give back the status;
//   - status 0 without an error code is other_error;
//   - neither tag is ClassUnknown, counted OK.
func Classify(status, errorCode string) Class {
	if status != "" && status != "0" {
		code, err := strconv.Atoi(status)
		return Class{Name: status, OK: err == nil && code < 400 && errorCode == ""}
	}
	if errorCode == "" {
		if status == "0" {
			return Class{Name: ClassOtherError}
		}
		return Class{Name: ClassUnknown, OK: true}
	}
	code, err := strconv.Atoi(errorCode)
	if err != nil {
		return Class{Name: ClassOtherError}
	}
	switch code {
	case k6RequestTimeout, k6TCPDialTimeout:
		return Class{Name: ClassTimeout}
	case k6TCPDialRefused:
		return Class{Name: ClassConnRefused}
	case k6TCPResetByPeer, k6TCPBrokenPipe:
		return Class{Name: ClassConnReset}
	}
	if code >= k6HTTPStatusFirst && code <= k6HTTPStatusLast {
		return Class{Name: strconv.Itoa(code - 1000)}
	}
	return Class{Name: ClassOtherError}
}

// IsTransportClass reports whether class names a transport error rather than
// an HTTP status.
func IsTransportClass(class string) bool {
	switch class {
	case ClassTimeout, ClassConnRefused, ClassConnReset, ClassOtherError:
		return true
	}
	return false
}
