// Package measure is the per-second measurement of a k6 run as the steamtrap
// output writes it (--out steamtrap=PATH, or to a collector: see
// CollectPath) and the stress driver reads it: the Second record, its file
// format, exact merging into Windows, and reading a file whole (ReadFile)
// or live while k6 appends to it (Follow). It has no k6 imports.
//
// # File format: steamtrap/seconds/v1
//
// NDJSON (one JSON object per line, "\n"-terminated, UTF-8). The first line
// is the header:
//
//	{"schema":"steamtrap/seconds/v1","created_at":"2026-01-02T03:04:05.678Z","interval_s":1,
//	 "histogram":{"unit":"us","lowest":1,"highest":3600000000,"significant_figures":3,
//	              "encoding":"hdrhistogram-v2-compressed-base64"}}
//
// ("counted":"offered" follows "interval_s" in files that count requests
// by when they were offered, every file written since it was added.)
//
// Every further line is one wall-clock second of the run, [start, start+1).
// A request counts in the second it was offered: when it started (its
// completion less http_req_blocked and http_req_duration), however long
// after the second it completed or timed out; an iteration likewise in the
// second it started. So a slow target is judged on the requests offered in
// a window, and each request's latency and outcome stay with the second
// that offered it. (Files without "counted" count them in the second they
// completed.) Everything else counts by its own timestamp:
//
//	{"start":1767323045,"requests":50,"ok":49,"errors":1,"failed":1,
//	 "classes":{"200":49,"timeout":1},"dropped_iterations":0,"iterations":50,
//	 "vus":3,"vus_max":20,"p50_ms":1.234,"p95_ms":2.5,"p99_ms":9.87,"max_ms":1000.4,
//	 "hist":"HISTFAAAA...","hist_ok":"HISTFAAAA...","lag":"HISTFAAAA...",
//	 "lag_p99_ms":0.421,"lag_max_ms":1.377}
//
// The fields of a second:
//
//   - start: unix seconds.
//   - requests: HTTP requests offered in the second that have completed,
//     failed or timed out (k6's http_reqs; each request is counted once).
//     requests = ok + errors = the sum of classes.
//   - ok: status below 400 and no error. errors: status 400 or above, or a
//     transport error (no response).
//   - failed: requests k6's http_req_failed marked failed (the script's
//     response callback; by default the same as errors).
//   - classes: requests by class: the HTTP status code ("200", "503") or a
//     transport class: "timeout" (k6 error codes 1050 request timeout, 1211
//     dial timeout), "conn_refused" (1212), "conn_reset" (1220 reset by
//     peer, 1201 broken pipe), "other_error" (every other code: DNS 11xx,
//     TLS 13xx, HTTP/2 16xx, dial 1210/1213, generic 1000 such as an
//     unexpected EOF, ...). "unknown" appears only when the status and
//     error_code system tags are both disabled. See Classify.
//   - dropped_iterations, iterations: k6's counters summed over the second.
//   - vus, vus_max: k6's vus gauge (VUs busy in an iteration when sampled)
//     and vus_max gauge (VUs initialized), their last value in the second,
//     carried over from the previous second when k6 emitted none (it emits
//     both once a second). With an arrival-rate executor and fast responses
//     vus is mostly 0. vus_max at the scenario's maxVUs means k6 has no more
//     VUs to keep the rate; dropped_iterations then grows.
//   - p50_ms, p95_ms, p99_ms, max_ms: http_req_duration percentiles in
//     milliseconds, for humans and jq; 0 when no request completed. Never
//     average them: merge the histograms.
//   - hist: the http_req_duration distribution as an HdrHistogram (values in
//     µs, 1 µs … 1 h, 3 significant figures; longer values are recorded as
//     1 h) in the standard V2 compressed encoding, base64. Histograms of any
//     seconds or runs merge exactly because they share this geometry.
//     Reported percentiles are the top of their bucket: at most 0.1% above
//     the recorded value.
//   - hist_ok: the http_req_duration distribution of the successful
//     requests only, in the same encoding as hist; what k6 reports as
//     http_req_duration{expected_response:true}. A request is successful
//     when k6 tagged it expected_response "true" (the script's response
//     callback; by default status 200–399) or, without that tag (the system
//     tag disabled, or no response callback), when it counts in ok.
//     An empty histogram when no request succeeded; absent from files
//     written before it was added (readers get nil).
//   - lag: the scheduling lag of the k6 process, in the same encoding as
//     hist (µs): a probe goroutine in the output sleeps 10 ms, again and
//     again, and records by how much each sleep overran (measured on the
//     monotonic clock; under 1 µs reads as 1 µs), in the wall-clock second
//     it woke up in. About 100 values a second, under a millisecond or two
//     while k6 has CPU to spare; tens of milliseconds and more mean the load
//     generator itself is starved of CPU (too few cores, CPU throttling, GC)
//     and its latencies and rates are suspect. A second without any value
//     is one the probe slept through: its overrun counts in the next
//     second. The probe runs only while the output runs and never makes a
//     line by itself: its values before the first line or after the last
//     are dropped. Absent from files written before it was added (readers
//     get nil).
//   - lag_p99_ms, lag_max_ms: lag's 99th percentile and maximum in
//     milliseconds, for humans and jq; 0 when lag has no value (and in
//     older files). Never average them: merge the histograms.
//   - late: present and true only on a supplementary line for a second
//     already written, holding samples (or lag values) that reached the
//     output after it: requests offered in it that completed more than
//     about two seconds later; add it to the first line with the same
//     start (Window and FoldLate do).
//
// Lines come in increasing start order, one per second with no gaps between
// the first and the last (a second in which nothing happened has zero
// counts, and its lag), so the number of lines is the duration. Late lines
// are the only exception among seconds: one for each flush in which
// requests offered in an already written second completed (a target slower
// than about two seconds makes them every second).
//
// # When the load began: began_at lines
//
// created_at is when the output started, which is before k6 initializes its
// VUs and, for a run started with --paused (as k6-operator starts its
// runners), before the run is resumed: possibly long before the load began.
// k6 tells an output nothing about that moment (v2 has no run-status hook
// for outputs, and its TestStart event fires before the pause ends), so the
// output learns it from the samples: the start of the first iteration (an
// iteration_duration sample's time less its value) or the first dropped
// iteration, whichever is earlier. It writes that, when it learns it, as a
// line without "start":
//
//	{"began_at":"2026-01-02T03:04:07.012Z"}
//
// An iteration that started earlier may complete later, so a later
// began_at line may give an earlier time; the earliest line is when the
// load began (every candidate is a real iteration's start, never earlier
// than the first). ReadAll returns it as Header.BeganAt, and Header.Began
// falls back to created_at when a file has none (older files; a run that
// never started an iteration). Select seconds with jq by their "start". The first and last seconds of a run are usually
// partial. A second is written
// once a sample two seconds newer has arrived (about 2.3 s after its start
// during a run), and every line with a single write, so a reader tailing the
// file sees whole lines; a line without its newline is still being written.
//
// Fields are added, never renamed: a reader must ignore fields it does not
// know, and a field added later is absent from older files (its Go field is
// then nil or zero).
//
// # What a reader refuses
//
// ReadAll, ReadFile and Follow refuse, naming the file, the line and the
// field (ErrSchema, ErrInvalid), what no writer writes: a first line that is
// not a header of this schema (an empty file included), a header with
// another interval_s than 1 or another histogram geometry (Header.Check), a
// line that is not JSON or holds a field of the wrong type, a histogram
// that does not decode or has another geometry, a second without start
// (or with start and began_at), a negative count or one above MaxCount,
// requests ≠ ok + errors or ≠ the sum of classes, a negative percentile
// (Second.Check), and a second (not late) whose start is not after the one
// before. An incomplete last line is ErrTruncated: the writer died in the
// middle of it, and what came before stands.
//
// # A step's steady window
//
// Steady picks the seconds of a stepped-load step that are judged: from the
// step's start (Header.Began) plus one partial second and the
// warm-up, to the step's configured end less its partial last second: the
// requests offered in those seconds, with their outcomes and latencies
// (in older files, counted by completion, timeouts are charged to the
// second their request started: SteadyWindow.Totals).
//
// With jq:
//
//	jq -c 'select(.start) | [.start, .requests, .errors, .p95_ms]' s.ndjson
//	jq -c 'select(.lag_max_ms > 50) | [.start, .lag_p99_ms, .lag_max_ms]' s.ndjson
package measure
