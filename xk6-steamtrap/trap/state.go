package trap

import (
	"errors"
	"fmt"
	"strings"
)

// State is the true condition of a steam trap.
type State uint8

// The trap states, in the order used by Mix.
const (
	Good State = iota
	Leaking
	FailedOpen
	FailedClosed
	Flooded
	numStates
)

var stateNames = [numStates]string{"good", "leaking", "failed_open", "failed_closed", "flooded"}

// States lists every state in Mix order.
func States() []State { return []State{Good, Leaking, FailedOpen, FailedClosed, Flooded} }

// StateNames lists the states' wire names in Mix order.
func StateNames() []string { return append([]string(nil), stateNames[:]...) }

// String returns the state's wire name (e.g. "failed_open").
func (s State) String() string {
	if s < numStates {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// MarshalText encodes the state as its wire name.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a wire name.
func (s *State) UnmarshalText(b []byte) error {
	v, err := ParseState(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ErrUnknownState is wrapped by errors about state names that do not exist.
var ErrUnknownState = errors.New("unknown trap state")

// ParseState parses a wire name such as "failed_closed".
func ParseState(name string) (State, error) {
	for i, n := range stateNames {
		if n == name {
			return State(i), nil
		}
	}
	return 0, fmt.Errorf("%w %q (want one of %s)", ErrUnknownState, name, strings.Join(stateNames[:], ", "))
}

// Type is the kind of steam trap; it decides how a healthy trap discharges and
// how it fails.
type Type uint8

// The trap types (Forbes Marshall comparison table, UE Systems manual).
const (
	Thermodynamic Type = iota
	InvertedBucket
	FloatThermostatic
	BalancedPressure
	Bimetallic
	numTypes
)

var typeNames = [numTypes]string{"thermodynamic", "inverted_bucket", "float_thermostatic", "balanced_pressure_thermostatic", "bimetallic"}

// String returns the type's wire name.
func (t Type) String() string {
	if t < numTypes {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// ParseType parses a wire name such as "inverted_bucket".
func ParseType(name string) (Type, error) {
	for i, n := range typeNames {
		if n == name {
			return Type(i), nil
		}
	}
	return 0, fmt.Errorf("unknown trap type %q (want one of %s)", name, strings.Join(typeNames[:], ", "))
}

// Intermittent reports whether a healthy trap of this type discharges in
// close–discharge–close cycles rather than continuously.
func (t Type) Intermittent() bool { return t == Thermodynamic || t == InvertedBucket }

// Subcooling reports whether the type holds condensate back until it has
// cooled below steam temperature (thermostatic elements).
func (t Type) Subcooling() bool { return t == BalancedPressure || t == Bimetallic }

// Mix is the fraction of traps in each state, indexed by State.
type Mix [numStates]float64

// DefaultMix is the domain reference's assumed fleet: good 80%, leaking 8%,
// failed open 5%, failed closed 5%, flooded 2%.
var DefaultMix = Mix{0.80, 0.08, 0.05, 0.05, 0.02}

// ErrBadMix is wrapped by every mix validation error.
var ErrBadMix = errors.New("invalid state mix")

// mixTolerance is how far the fractions may sum from 1.
const mixTolerance = 1e-6

// ParseMix builds a Mix from state-name → fraction pairs. States not named get
// zero; the fractions must be finite, non-negative and sum to 1.
func ParseMix(m map[string]float64) (Mix, error) {
	var mix Mix
	for name, f := range m {
		s, err := ParseState(name)
		if err != nil {
			return Mix{}, fmt.Errorf("%w: %w", ErrBadMix, err)
		}
		mix[s] = f
	}
	return mix, mix.Validate()
}

// Validate reports whether every fraction is in [0, 1] and they sum to 1.
func (m Mix) Validate() error {
	sum := 0.0
	for i, f := range m {
		if !(f >= 0 && f <= 1) { // also rejects NaN
			return fmt.Errorf("%w: fraction for %s is %v, want a number in [0, 1]", ErrBadMix, State(i), f)
		}
		sum += f
	}
	if sum < 1-mixTolerance || sum > 1+mixTolerance {
		return fmt.Errorf("%w: fractions sum to %.6g, want 1", ErrBadMix, sum)
	}
	return nil
}

// Counts apportions n traps to states by the largest-remainder method, so the
// fleet's realised mix is as close to m as whole traps allow.
func (m Mix) Counts(n int) [numStates]int {
	var counts [numStates]int
	var rem [numStates]float64
	total := 0
	for i, f := range m {
		exact := f * float64(n)
		counts[i] = int(exact)
		rem[i] = exact - float64(counts[i])
		total += counts[i]
	}
	for ; total < n; total++ {
		best := 0
		for i := range rem {
			if rem[i] > rem[best] {
				best = i
			}
		}
		counts[best]++
		rem[best] = -1
	}
	return counts
}
