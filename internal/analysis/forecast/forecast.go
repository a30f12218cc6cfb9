package forecast

import (
	"time"

	"github.com/greenlang/loadgen/internal/guides"
)

// Request is what a forecast is asked for: the GL-008 script's inputs, the
// GL-006 §8.2 inputs, and how a measured capacity becomes replicas.
type Request struct {
	Guide       GuideInput
	GL006       GL006Input
	Assumptions Assumptions
}

// Measurement is what a measured campaign adds to a forecast: its per-pod
// capacity (GL-008), or its operation's capacity and duration (GL-006).
// The zero Measurement adds nothing.
type Measurement struct {
	Capacity *Capacity
	GL006    *GL006Measured
}

// Forecast builds the forecast of a guide's service by its sizing model:
// the GL-008 script's table and milestones (with, given a measured
// capacity, the plan that capacity implies), or GL-006's §8.2 sizing of
// every operation.
func Forecast(svc guides.Service, b *guides.Benchmarks, r Request, m Measurement) (*Output, error) {
	out := &Output{Service: svc.Name()}
	switch svc.Sizing() {
	case guides.ReplicaFormula:
		p, err := GL006(b, r.GL006, m.GL006)
		if err != nil {
			return nil, err
		}
		out.GL006 = p
	case guides.GrowthModel:
		g := r.Guide
		g.Model = modelOf(b)
		rows, err := Guide(g)
		if err != nil {
			return nil, err
		}
		out.Sites, out.Growth, out.Months, out.Now = g.Sites, g.Growth, g.Months, g.Now.Format(time.RFC3339)
		out.Rows, out.Milestones = rows, milestones(g.Model, rows)
		out.Guide = &GuideProvided{Script: "scripts/forecast_capacity.py", Section: "Capacity Planning → Growth Forecasting"}
		if m.Capacity != nil {
			out.Measured = NewMeasuredPlan(b, *m.Capacity, r.Assumptions, rows)
		}
	}
	return out, nil
}
