package trap

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/greenlang/loadgen/xk6-steamtrap/internal/jsonnum"
)

// SensorNoiseC is the standard deviation of every temperature reading, °C.
// Noise is clipped at ±3σ, so two readings of one true temperature never
// differ by more than MaxNoiseSpreadC.
const SensorNoiseC = 0.5

// MaxNoiseSpreadC is the most two noisy readings of one temperature can differ.
const MaxNoiseSpreadC = 6 * SensorNoiseC

// SensorData is what an inspection round records at one trap. The first
// three fields are the GL-008 guide's; the rest extend it. Acoustic levels are
// modelled (no absolute ultrasound thresholds are published): only their
// relation across states, and downstream against upstream, is meaningful.
type SensorData struct {
	// AcousticFrequencyHz is the dominant frequency of the heterodyned
	// ultrasound signature (the guide's acoustic_frequency), Hz.
	AcousticFrequencyHz float64 `json:"acoustic_frequency"`
	// ThermalTempC is the trap inlet temperature (the guide's thermal_temp), °C.
	ThermalTempC float64 `json:"thermal_temp"`
	// PressurePsig is the line pressure at the trap (the guide's pressure), psig.
	PressurePsig float64 `json:"pressure"`
	// OutletTempC is the temperature just downstream of the trap, °C.
	OutletTempC float64 `json:"outlet_temp_c"`
	// AmbientTempC is the air temperature near the trap, °C.
	AmbientTempC float64 `json:"ambient_temp_c"`
	// UltrasoundDB is the modelled ultrasound level downstream of the trap, dBµV.
	UltrasoundDB float64 `json:"ultrasound_db"`
	// UltrasoundUpstreamDB is the modelled level upstream of the trap, dBµV.
	UltrasoundUpstreamDB float64 `json:"ultrasound_upstream_db"`
	// CyclesPerMin counts discharge cycles per minute (0 = continuous or none).
	CyclesPerMin float64 `json:"cycles_per_min"`
}

// Inspection is one GL-008 inspection request and the trap's true state,
// which is never part of the request body.
type Inspection struct {
	Trap     *Trap
	Sequence uint64
	Time     time.Time
	Sensor   SensorData
}

// InspectionRequest is the JSON body of POST /v1/steam-trap/inspection, as
// decoded by a server. It is a superset of the guide's
// {trap_id, site_id, sensor_data:{acoustic_frequency, thermal_temp, pressure}}.
type InspectionRequest struct {
	TrapID             string     `json:"trap_id"`
	SiteID             string     `json:"site_id"`
	TrapType           string     `json:"trap_type,omitempty"`
	OrificeIn          float64    `json:"orifice_in,omitempty"`
	ReturnPressurePsig float64    `json:"return_pressure_psig"`
	Sequence           uint64     `json:"sequence"`
	Timestamp          time.Time  `json:"timestamp"`
	SensorData         SensorData `json:"sensor_data"`
}

// SensorBatch is the JSON body of POST /v1/steam-trap/sensors/batch.
type SensorBatch struct {
	GatewayID string              `json:"gateway_id"`
	Readings  []InspectionRequest `json:"readings"`
}

// Epoch is where a generator's logical clock starts; readings are one second
// apart per generator so that bodies do not depend on the wall clock.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Generator produces the payload sequence of one stream (one k6 VU, say) of a
// fleet. The same fleet and stream give the same sequence. A Generator is not
// safe for concurrent use.
type Generator struct {
	fleet *Fleet
	rng   *rand.Rand
	seq   uint64

	// Inspections drawn ahead by NextBody, next to hand out first, by
	// Next and NextBody alike; bodies holds their request bodies, one
	// after the other, the i-th ending at ends[i].
	ahead  []Inspection
	next   int
	bodies string
	ends   []int
	buf    []byte
}

// BodyBatch is how many inspections NextBody draws and renders at once.
const BodyBatch = 16

// NewGenerator returns the generator of the given stream.
func (f *Fleet) NewGenerator(stream uint64) *Generator {
	return &Generator{fleet: f, rng: rand.New(rand.NewPCG(f.cfg.Seed, splitmix(stream)))}
}

// splitmix scrambles a stream number into a well-mixed PCG increment seed.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Next returns the next inspection of a trap drawn uniformly from the fleet.
func (g *Generator) Next() Inspection {
	if g.next < len(g.ahead) {
		g.next++
		return g.ahead[g.next-1]
	}
	return g.draw()
}

// NextBody returns the request body of the next inspection (what Next then
// AppendJSON would give) and its trap. It draws and renders BodyBatch
// inspections at a time into one string, which each body shares: the
// cheapest way on k6's hot path (one allocation, and the generator's code
// and data stay in cache for the batch), at the price that keeping one body
// keeps its whole batch in memory. Next and NextBody continue one sequence
// in any interleaving.
func (g *Generator) NextBody() (string, *Trap) {
	if g.next == len(g.ahead) {
		g.drawAhead()
	}
	i := g.next
	g.next++
	start := 0
	if i > 0 {
		start = g.ends[i-1]
	}
	return g.bodies[start:g.ends[i]], g.ahead[i].Trap
}

func (g *Generator) drawAhead() {
	g.ahead, g.ends, g.buf, g.next = g.ahead[:0], g.ends[:0], g.buf[:0], 0
	for range BodyBatch {
		in := g.draw()
		g.ahead = append(g.ahead, in)
		g.buf = in.AppendJSON(g.buf)
		g.ends = append(g.ends, len(g.buf))
	}
	g.bodies = string(g.buf)
}

// draw draws the next inspection from the random stream.
func (g *Generator) draw() Inspection {
	t := &g.fleet.traps[g.rng.IntN(len(g.fleet.traps))]
	g.seq++
	return Inspection{Trap: t, Sequence: g.seq, Time: Epoch.Add(time.Duration(g.seq) * time.Second), Sensor: g.reading(t)}
}

// noise draws sensor noise, N(0, σ) clipped at ±3σ.
func (g *Generator) noise(sigma float64) float64 {
	return max(-3, min(3, g.rng.NormFloat64())) * sigma
}

func (g *Generator) uniform(lo, hi float64) float64 { return lo + g.rng.Float64()*(hi-lo) }

// reading draws the sensor signature of a trap in its state (UE Systems, SDT,
// TLV): true temperatures first, physically ordered (outlet ≤ inlet), then
// independent sensor noise on each.
func (g *Generator) reading(t *Trap) SensorData {
	ambient := g.uniform(12, 35)
	sat, ret := t.satC, min(t.retSatC, t.satC)
	var inlet, outlet, db, up, freq, cycles float64
	switch t.State {
	case Good:
		inlet = sat - g.uniform(0.3, 2.5)
		if t.Type.Subcooling() {
			inlet = sat - g.uniform(8, 20) // thermostatic elements hold condensate back
		}
		outlet = ret + g.uniform(0, 3)
		if t.Type.Intermittent() {
			db, cycles, freq = g.uniform(22, 36), g.uniform(1, 6), g.uniform(900, 1500)
		} else {
			db, cycles, freq = g.uniform(15, 28), 0, g.uniform(700, 1200)
		}
		up = db + g.uniform(-2, 3)
	case Leaking:
		inlet = sat - g.uniform(0.3, 2.5)
		outlet = ret + g.uniform(0.4, 0.8)*(inlet-ret)                                // outlet rises toward inlet
		db, cycles, freq = g.uniform(38, 55), g.uniform(8, 30), g.uniform(2000, 3500) // slight whistle
		up = db - g.uniform(0, 4)
	case FailedOpen:
		inlet = sat - g.uniform(0, 2)
		outlet = inlet - g.uniform(0.5, 4)                             // blow-through: outlet ≈ inlet
		db, cycles, freq = g.uniform(60, 80), 0, g.uniform(1500, 2500) // continuous rushing
		up = db - g.uniform(3, 10)                                     // louder downstream
	case FailedClosed:
		inlet = ambient + g.uniform(10, 55) // well below steam temperature
		inlet = min(inlet, sat-30)
		outlet = ambient + g.uniform(0, 8)
		db, cycles, freq = g.uniform(0, 8), 0, g.uniform(100, 300) // no sound or low constant
		up = db + g.uniform(0, 3)
	case Flooded:
		inlet = sat - g.uniform(30, 55) // noticeably cooler than steam
		outlet = ret - g.uniform(0, 15)
		db, cycles, freq = g.uniform(10, 20), 0, g.uniform(300, 700) // smooth, little sound
		up = db + g.uniform(-1, 2)
	}
	inlet = max(inlet, ambient)
	outlet = max(min(outlet, inlet), ambient) // heat flows downstream only
	return SensorData{
		AcousticFrequencyHz:  math.Round(freq),
		ThermalTempC:         round1(inlet + g.noise(SensorNoiseC)),
		PressurePsig:         t.Pressure,
		OutletTempC:          round1(outlet + g.noise(SensorNoiseC)),
		AmbientTempC:         round1(ambient + g.noise(SensorNoiseC)),
		UltrasoundDB:         round1(db),
		UltrasoundUpstreamDB: round1(max(up, 0)),
		CyclesPerMin:         round1(cycles),
	}
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// appendPrefix renders the constant head of the trap's request body.
func (t *Trap) appendPrefix(b []byte) []byte {
	b = append(b, `{"trap_id":"`...)
	b = append(b, t.ID...)
	b = append(b, `","site_id":"`...)
	b = append(b, t.SiteID...)
	b = append(b, `","trap_type":"`...)
	b = append(b, t.Type.String()...)
	b = append(b, `","orifice_in":`...)
	b = strconv.AppendFloat(b, t.OrificeIn, 'f', -1, 64)
	b = append(b, `,"return_pressure_psig":`...)
	b = strconv.AppendFloat(b, t.Return, 'f', -1, 64)
	return b
}

// AppendJSON appends the request body of the inspection to b. The output is
// the encoding/json form of InspectionRequest, written without reflection.
func (in *Inspection) AppendJSON(b []byte) []byte {
	s := &in.Sensor
	b = append(b, in.Trap.prefix...)
	b = append(b, `,"sequence":`...)
	b = strconv.AppendUint(b, in.Sequence, 10)
	b = append(b, `,"timestamp":"`...)
	b = jsonnum.AppendRFC3339(b, in.Time)
	b = append(b, `","sensor_data":{"acoustic_frequency":`...)
	b = jsonnum.AppendTenths(b, s.AcousticFrequencyHz)
	b = append(b, `,"thermal_temp":`...)
	b = jsonnum.AppendTenths(b, s.ThermalTempC)
	b = append(b, `,"pressure":`...)
	b = jsonnum.AppendTenths(b, s.PressurePsig)
	b = append(b, `,"outlet_temp_c":`...)
	b = jsonnum.AppendTenths(b, s.OutletTempC)
	b = append(b, `,"ambient_temp_c":`...)
	b = jsonnum.AppendTenths(b, s.AmbientTempC)
	b = append(b, `,"ultrasound_db":`...)
	b = jsonnum.AppendTenths(b, s.UltrasoundDB)
	b = append(b, `,"ultrasound_upstream_db":`...)
	b = jsonnum.AppendTenths(b, s.UltrasoundUpstreamDB)
	b = append(b, `,"cycles_per_min":`...)
	b = jsonnum.AppendTenths(b, s.CyclesPerMin)
	return append(b, "}}"...)
}

// AppendBatch appends a sensor-gateway batch of n readings to b. The gateway
// is the site of the first reading's trap. The true states of the readings
// are written to states when it is non-nil (it is reset first).
func (g *Generator) AppendBatch(b []byte, n int, states *[]State) []byte {
	if states != nil {
		*states = (*states)[:0]
	}
	for i := range n {
		in := g.Next()
		if i == 0 {
			b = append(b, `{"gateway_id":"gw-`...)
			b = append(b, in.Trap.SiteID...)
			b = append(b, `","readings":[`...)
		} else {
			b = append(b, ',')
		}
		b = in.AppendJSON(b)
		if states != nil {
			*states = append(*states, in.Trap.State)
		}
	}
	if n == 0 {
		b = append(b, `{"gateway_id":"gw-none","readings":[`...)
	}
	return append(b, "]}"...)
}
