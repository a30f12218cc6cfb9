package trap

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Defaults for FleetConfig fields left zero.
const (
	DefaultSites           = 10
	DefaultTrapsPerSite    = 100 // forecast_capacity.py: "Avg 100 traps per site"
	DefaultPressureMinPsig = 5
	DefaultPressureMaxPsig = 300
	// MinPressurePsig and MaxPressurePsig bound the domain's documented line
	// pressures.
	MinPressurePsig = 2
	MaxPressurePsig = 600
	// MaxFleetTraps bounds a fleet's size so a typo cannot exhaust memory.
	MaxFleetTraps = 1_000_000
)

// ErrBadFleet is wrapped by every fleet configuration error.
var ErrBadFleet = errors.New("invalid fleet")

// FleetConfig describes a fleet. The zero value of a field means its default.
type FleetConfig struct {
	Seed         uint64
	Sites        int
	TrapsPerSite int
	// Mix is the fraction of traps in each state; the zero Mix means DefaultMix.
	Mix Mix
	// PressureMinPsig and PressureMaxPsig bound line pressures (psig). Both
	// zero means the defaults; equal values put every trap at that pressure.
	PressureMinPsig, PressureMaxPsig float64
}

// withDefaults returns the config with zero fields replaced by defaults.
func (c FleetConfig) withDefaults() FleetConfig {
	if c.Sites == 0 {
		c.Sites = DefaultSites
	}
	if c.TrapsPerSite == 0 {
		c.TrapsPerSite = DefaultTrapsPerSite
	}
	if c.Mix == (Mix{}) {
		c.Mix = DefaultMix
	}
	if c.PressureMinPsig == 0 && c.PressureMaxPsig == 0 {
		c.PressureMinPsig, c.PressureMaxPsig = DefaultPressureMinPsig, DefaultPressureMaxPsig
	}
	return c
}

// Validate reports every problem with the config (after defaults) at once.
func (c FleetConfig) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Sites < 0 {
		errs = append(errs, fmt.Errorf("sites is %d, want > 0", c.Sites))
	}
	if c.TrapsPerSite < 0 {
		errs = append(errs, fmt.Errorf("trapsPerSite is %d, want > 0", c.TrapsPerSite))
	}
	if c.Sites > 0 && c.TrapsPerSite > 0 && c.Sites*c.TrapsPerSite > MaxFleetTraps {
		errs = append(errs, fmt.Errorf("sites × trapsPerSite is %d, want at most %d", c.Sites*c.TrapsPerSite, MaxFleetTraps))
	}
	if err := c.Mix.Validate(); err != nil {
		errs = append(errs, err)
	}
	lo, hi := c.PressureMinPsig, c.PressureMaxPsig
	switch {
	case !(lo >= MinPressurePsig) || !(hi >= MinPressurePsig):
		errs = append(errs, fmt.Errorf("pressure %v–%v psig is below %d psig, want %d–%d psig", lo, hi, MinPressurePsig, MinPressurePsig, MaxPressurePsig))
	case lo > hi:
		errs = append(errs, fmt.Errorf("pressure range %v–%v psig is reversed", lo, hi))
	case hi > MaxPressurePsig:
		errs = append(errs, fmt.Errorf("pressure %v psig is above %d psig, the top of the documented range", hi, MaxPressurePsig))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrBadFleet, errors.Join(errs...))
}

// Trap is one trap of a fleet. Its fields never change after the fleet is built.
type Trap struct {
	ID       string // e.g. "ST-003-0042"
	SiteID   string // e.g. "site_003"
	Type     Type
	State    State
	Pressure float64 // line pressure, psig
	Return   float64 // condensate return pressure, psig
	// OrificeIn is the discharge orifice diameter in inches (1/32–1/2).
	OrificeIn float64

	satC, retSatC float64 // saturation temperatures at Pressure and Return, °C
	prefix        []byte  // the JSON of the trap's constant fields
	index         int     // position in the fleet
}

// Index returns the trap's position in its fleet (0 ≤ Index < Fleet.Len).
func (t *Trap) Index() int { return t.index }

// SaturationC returns the saturation temperature at the trap's line pressure, °C.
func (t *Trap) SaturationC() float64 { return t.satC }

// ReturnSaturationC returns the saturation temperature at the return pressure, °C.
func (t *Trap) ReturnSaturationC() float64 { return t.retSatC }

// Fleet is an immutable set of traps built from a seed: the same config gives
// the same traps. It is safe for concurrent use; generators are not.
type Fleet struct {
	cfg   FleetConfig
	traps []Trap
}

// standard header pressures (psig) a plant's steam mains run at.
var headerPsig = []float64{2, 5, 10, 15, 30, 50, 75, 100, 125, 150, 200, 250, 300, 400, 450, 600}

// standard orifice diameters, 1/32 in to 1/2 in.
var orificeIn = []float64{1.0 / 32, 1.0 / 16, 3.0 / 32, 1.0 / 8, 5.0 / 32, 3.0 / 16, 7.0 / 32, 1.0 / 4, 5.0 / 16, 3.0 / 8, 7.0 / 16, 1.0 / 2}

// type shares in a typical plant; thermodynamic traps are not used below 10 psig.
var typeWeights = [numTypes]float64{0.30, 0.25, 0.20, 0.15, 0.10}

// NewFleet builds the fleet described by cfg.
func NewFleet(cfg FleetConfig) (*Fleet, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed_f1ee7))
	n := cfg.Sites * cfg.TrapsPerSite

	states := make([]State, 0, n)
	for s, c := range cfg.Mix.Counts(n) {
		for range c {
			states = append(states, State(s))
		}
	}
	rng.Shuffle(n, func(i, j int) { states[i], states[j] = states[j], states[i] })

	var levels []float64
	for _, p := range headerPsig {
		if p >= cfg.PressureMinPsig && p <= cfg.PressureMaxPsig {
			levels = append(levels, p)
		}
	}
	f := &Fleet{cfg: cfg, traps: make([]Trap, n)}
	for i := range f.traps {
		t := &f.traps[i]
		t.index = i
		site, k := i/cfg.TrapsPerSite+1, i%cfg.TrapsPerSite+1
		t.ID = fmt.Sprintf("ST-%03d-%04d", site, k)
		t.SiteID = fmt.Sprintf("site_%03d", site)
		t.State = states[i]
		switch {
		case len(levels) > 0:
			t.Pressure = levels[rng.IntN(len(levels))]
		default:
			t.Pressure = math.Round((cfg.PressureMinPsig+rng.Float64()*(cfg.PressureMaxPsig-cfg.PressureMinPsig))*2) / 2
		}
		t.Type = pickType(rng, t.Pressure)
		t.OrificeIn = orificeIn[rng.IntN(orificeSizesFor(t.Pressure))]
		t.Return = pickReturn(rng, t.Pressure)
		t.satC = SaturationTempC(t.Pressure)
		t.retSatC = SaturationTempC(t.Return)
		t.prefix = t.appendPrefix(nil)
	}
	return f, nil
}

func pickType(rng *rand.Rand, psig float64) Type {
	for {
		x := rng.Float64()
		for i, w := range typeWeights {
			if x < w || i == len(typeWeights)-1 {
				if Type(i) == Thermodynamic && psig < 10 {
					break // redraw: not used at such low pressure
				}
				return Type(i)
			}
			x -= w
		}
	}
}

// orificeSizesFor returns how many of the smallest standard orifices suit a
// line pressure: high-pressure traps have small orifices.
func orificeSizesFor(psig float64) int {
	switch {
	case psig >= 150:
		return 8 // up to 1/4 in
	case psig >= 30:
		return 10 // up to 3/8 in
	default:
		return len(orificeIn)
	}
}

// pickReturn draws a condensate return pressure: vented to atmosphere, or a
// pressurised return main well below the line pressure.
func pickReturn(rng *rand.Rand, psig float64) float64 {
	r := [...]float64{0, 0, 5, 15}[rng.IntN(4)]
	if r > psig/3 {
		return 0
	}
	return r
}

// Config returns the fleet's configuration with defaults filled in.
func (f *Fleet) Config() FleetConfig { return f.cfg }

// Len returns the number of traps.
func (f *Fleet) Len() int { return len(f.traps) }

// Trap returns the i-th trap (0 ≤ i < Len). The pointer must not be modified.
func (f *Fleet) Trap(i int) *Trap { return &f.traps[i] }

// Counts returns how many traps are in each state.
func (f *Fleet) Counts() [numStates]int {
	var c [numStates]int
	for i := range f.traps {
		c[f.traps[i].State]++
	}
	return c
}
