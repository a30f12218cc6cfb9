// Package sample writes the payloads the extension sends, one JSON object a
// line, each with its true state beside the body (never inside it), for a
// person to inspect: `loadgen sample`. The same seed and stream (the k6 VU
// number) give the same payloads as the extension sends from that VU.
package sample

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/greenlang/loadgen/xk6-steamtrap/heat"
	"github.com/greenlang/loadgen/xk6-steamtrap/trap"
)

// The payload kinds.
const (
	Inspection  = "inspection"   // one trap inspection, with the trap's state
	SensorBatch = "sensor-batch" // a gateway's batch, with each reading's state
	HeatStreams = "heat-streams" // a GL-006 request, with its operation
)

// MaxCount bounds Options.Count.
const MaxCount = 10_000_000

// MaxBatchSize bounds Options.Size.
const MaxBatchSize = 10000

// Options say which payloads to write. They are `loadgen sample`'s flags,
// and Validate's problems name them so.
type Options struct {
	Kind         string // Inspection, SensorBatch or HeatStreams
	Count        int    // lines to write, 1–MaxCount
	Seed, Stream uint64 // the extension's seed and VU number
	// Sites and TrapsPerSite size the fleet of inspections and batches.
	Sites, TrapsPerSite int
	Size                int // readings per sensor batch
	// Hot, Cold, DTMinK and Operation shape heat-stream requests; Operation
	// "" draws every operation, equally weighted.
	Hot, Cold int
	DTMinK    float64
	Operation string
}

// Validate returns every problem with the options, nil when there is none.
func (o Options) Validate() []error {
	var errs []error
	if o.Count < 1 || o.Count > MaxCount {
		errs = append(errs, fmt.Errorf("--count %d: want 1–%d", o.Count, MaxCount))
	}
	switch o.Kind {
	case Inspection, SensorBatch:
		if o.Size < 1 || o.Size > MaxBatchSize {
			errs = append(errs, fmt.Errorf("--size %d: want 1–%d", o.Size, MaxBatchSize))
		}
		if err := o.fleet().Validate(); err != nil {
			errs = append(errs, err)
		}
	case HeatStreams:
		if _, err := o.heatGenerator(); err != nil {
			errs = append(errs, err)
		}
	default:
		errs = append(errs, fmt.Errorf("--kind %q: want %s, %s or %s", o.Kind, Inspection, SensorBatch, HeatStreams))
	}
	return errs
}

func (o Options) fleet() trap.FleetConfig {
	return trap.FleetConfig{Seed: o.Seed, Sites: o.Sites, TrapsPerSite: o.TrapsPerSite}
}

func (o Options) heatGenerator() (*heat.Generator, error) {
	cfg := heat.GenConfig{Seed: o.Seed, Hot: o.Hot, Cold: o.Cold, DTMinK: o.DTMinK, Weights: map[heat.Operation]float64{}}
	if o.Operation != "" {
		op, err := heat.ParseOperation(o.Operation)
		if err != nil {
			return nil, fmt.Errorf("--operation: %w", err)
		}
		cfg.Weights[op] = 1
	} else {
		for _, op := range heat.Operations() {
			cfg.Weights[op] = 1
		}
	}
	return heat.NewGenerator(cfg, o.Stream)
}

// Write writes o.Count payloads of o.Kind to w as NDJSON. The options must
// be valid (Validate).
func Write(w io.Writer, o Options) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	var err error
	if o.Kind == HeatStreams {
		err = writeHeat(enc, o)
	} else {
		err = writeTraps(enc, o)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

func writeTraps(enc *json.Encoder, o Options) error {
	f, err := trap.NewFleet(o.fleet())
	if err != nil {
		return err
	}
	g := f.NewGenerator(o.Stream)
	var buf []byte
	var states []trap.State
	for range o.Count {
		if o.Kind == Inspection {
			in := g.Next()
			buf = in.AppendJSON(buf[:0])
			err = enc.Encode(struct {
				TrapID string          `json:"trap_id"`
				SiteID string          `json:"site_id"`
				State  trap.State      `json:"state"`
				Body   json.RawMessage `json:"body"`
			}{in.Trap.ID, in.Trap.SiteID, in.Trap.State, buf})
		} else {
			buf = g.AppendBatch(buf[:0], o.Size, &states)
			err = enc.Encode(struct {
				Count  int             `json:"count"`
				States []trap.State    `json:"states"`
				Body   json.RawMessage `json:"body"`
			}{o.Size, states, buf})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func writeHeat(enc *json.Encoder, o Options) error {
	g, err := o.heatGenerator()
	if err != nil {
		return err
	}
	for range o.Count {
		r := g.Next()
		if err := enc.Encode(struct {
			Operation heat.Operation  `json:"operation"`
			Body      json.RawMessage `json:"body"`
		}{r.Operation, r.AppendJSON(nil)}); err != nil {
			return err
		}
	}
	return nil
}
