package forecast

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
)

// Config is `loadgen forecast`: the GL-008 script's inputs, the GL-006
// §8.2 inputs, the planning assumptions, and optionally a measured
// campaign. Its problems name the command's flags.
type Config struct {
	Guide GuideInput // Now is taken from NowText
	// NowText pins the script's datetime.now() (YYYY-MM-DD or RFC 3339, in
	// local time); "": the clock.
	NowText string
	// Service is the guide forecast (gl008 or gl006); "": the default
	// service (guides.Default), or the measured run's.
	Service string
	// Measured is a run directory whose measured capacity sizes a second
	// forecast ("": none); Measure analyses it (reporting/model's
	// Settings.Measure).
	Measured string
	Measure  func(dir string) (guides.Service, Measurement, error)
	// GL006Rate (0: the worked example's 100 req/s) and CPUPerReplicaMillis
	// are §8.2's; Assumptions map inspections/day to replicas.
	GL006Rate           float64
	CPUPerReplicaMillis float64
	Assumptions         Assumptions
	Format              string // text or json
}

// Validate returns every problem with c as bad input, nil when there is
// none. The script's inputs are checked by Run: they count for GL-008 only.
func (c Config) Validate() error {
	var problems []string
	if c.Format != "text" && c.Format != "json" {
		problems = append(problems, fmt.Sprintf("--format %q: want text or json", c.Format))
	}
	if err := c.Assumptions.WithDefaults().Validate(); err != nil {
		problems = append(problems, err.Error())
	}
	if _, err := c.now(); err != nil {
		problems = append(problems, err.Error())
	}
	if _, err := c.service(); err != nil {
		problems = append(problems, err.Error())
	}
	return exitcode.Problems("", problems)
}

func (c Config) now() (time.Time, error) {
	if c.NowText == "" {
		return time.Now(), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, c.NowText, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--now %q: want YYYY-MM-DD or RFC 3339, e.g. 2025-11-26", c.NowText)
}

func (c Config) service() (guides.Service, error) {
	if c.Service == "" {
		return guides.Default(), nil
	}
	svc, ok := guides.Lookup(c.Service)
	if !ok {
		return nil, fmt.Errorf("--service %q: want %s", c.Service, strings.Join(guides.Keys(), " or "))
	}
	return svc, nil
}

// Run forecasts: the measured campaign analysed first, if one is given.
// Inputs out of range are bad input (exit 2).
func (c Config) Run() (*Output, error) {
	at, err := c.now()
	if err != nil {
		return nil, exitcode.Usage("%v", err)
	}
	svc, err := c.service()
	if err != nil {
		return nil, exitcode.Usage("%v", err)
	}
	var m Measurement
	if c.Measured != "" {
		measured, mm, err := c.Measure(c.Measured)
		if err != nil {
			return nil, err
		}
		if c.Service != "" && measured.Name() != svc.Name() {
			return nil, exitcode.Usage("--measured %s is a %s run, but --service is %s", c.Measured, measured.Name(), c.Service)
		}
		svc, m = measured, mm
	}
	b, err := guides.Builtin(svc)
	if err != nil {
		return nil, err
	}
	g := c.Guide
	g.Now = at
	out, err := Forecast(svc, b, Request{Guide: g, Assumptions: c.Assumptions.WithDefaults(),
		GL006: GL006Input{RatePerS: c.GL006Rate, Utilisation: c.Assumptions.Utilisation, CPUPerReplicaMillis: c.CPUPerReplicaMillis}}, m)
	if err != nil {
		return nil, exitcode.Usage("%v", err)
	}
	return out, nil
}

// Write renders the forecast as text or JSON.
func (o *Output) Write(w io.Writer, format string) error {
	if format == "json" {
		return o.WriteJSON(w)
	}
	return o.WriteText(w)
}
