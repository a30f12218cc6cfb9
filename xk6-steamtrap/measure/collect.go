package measure

import "net/url"

// The HTTP form of the seconds stream (--out steamtrap=https://…): a k6
// runner POSTs batches of a seconds file to a collector. Each body is
// NDJSON: the header line, then the lines the file would hold next
// (seconds, late supplements, began_at lines), encoded exactly as in the
// file. See the extension's README-output.md for the retry and
// back-pressure rules.
const (
	// ContentType is the media type of a batch.
	ContentType = "application/x-ndjson"
	// HeaderRunner names the k6 instance that sent a batch: the instance_id
	// run tag (k6-operator sets it), else the execution segment, else
	// hostname-pid. A collector keeps one stream per runner.
	HeaderRunner = "X-Steamtrap-Runner"
	// HeaderSegment is the runner's execution segment ("1/4:2/4"), empty
	// for the whole run.
	HeaderSegment = "X-Steamtrap-Segment"
	// HeaderBatch is the batch's sequence number for its runner, from 1. A
	// batch retried after a lost answer comes again with the same number
	// and the same lines: a collector accepts each number once.
	HeaderBatch = "X-Steamtrap-Batch"
)

// CollectPath returns the path a step's runners POST their batches to,
// relative to the collector's base URL.
func CollectPath(step string) string {
	return "/v1/steps/" + url.PathEscape(step) + "/seconds"
}
