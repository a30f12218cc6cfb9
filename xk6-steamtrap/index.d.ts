/**
 * k6/x/steamtrap — realistic GL-008 SteamTrapInspector and GL-006
 * HeatRecoveryMaximizer payloads, generated in Go, reproducibly from a seed.
 *
 * Same seed → the same fleet and, per VU, the same payload sequence. The seed
 * defaults to $XK6_STEAMTRAP_SEED, else 1. Bad options throw an Error that
 * says what was wrong.
 */
declare module "k6/x/steamtrap" {
  /** Trap states, in the order used by `mix`. */
  export type TrapState = "good" | "leaking" | "failed_open" | "failed_closed" | "flooded";
  /** GL-006 operations (scaling guide §8.1). */
  export type Operation = "stream_analysis" | "pinch_analysis" | "network_synthesis" | "roi" | "full_analysis";

  export interface FleetOptions {
    /** Seed (non-negative integer). Default $XK6_STEAMTRAP_SEED, else 1. */
    seed?: number;
    /** Number of sites (default 10). */
    sites?: number;
    /** Traps per site (default 100; the guide's forecast assumes 100). */
    trapsPerSite?: number;
    /**
     * Fraction of traps per state; must sum to 1. States left out get 0.
     * Default: good 0.80, leaking 0.08, failed_open 0.05, failed_closed 0.05, flooded 0.02.
     */
    mix?: Partial<Record<TrapState, number>>;
    /** Line pressure in psig: one value, or [min, max] within 2–600 (default [5, 300]). */
    pressurePsig?: number | [number, number];
  }

  /** One inspection: the request body, and beside it (never inside it) the truth. */
  export interface Inspection {
    trapId: string;
    siteId: string;
    /** The trap's true state. */
    state: TrapState;
    /**
     * JSON text of POST /v1/steam-trap/inspection: {trap_id, site_id, trap_type,
     * orifice_in, return_pressure_psig, sequence, timestamp, sensor_data:
     * {acoustic_frequency [Hz], thermal_temp [°C, inlet], pressure [psig],
     * outlet_temp_c, ambient_temp_c, ultrasound_db, ultrasound_upstream_db, cycles_per_min}}.
     */
    body: string;
  }

  export interface SensorBatch {
    /** JSON text of POST /v1/steam-trap/sensors/batch: {gateway_id, readings: [inspection bodies]}. */
    body: string;
    count: number;
  }

  export interface TrapInfo {
    id: string;
    siteId: string;
    type: "thermodynamic" | "inverted_bucket" | "float_thermostatic" | "balanced_pressure_thermostatic" | "bimetallic";
    state: TrapState;
    pressurePsig: number;
    returnPsig: number;
    orificeIn: number;
    /** Saturation temperature at the line pressure, °C (IAPWS-IF97). */
    saturationC: number;
  }

  /** A fleet of traps with stable identities. Fleets are shared by VUs; generators are per VU. */
  export class Fleet {
    constructor(options?: FleetOptions);
    readonly size: number;
    readonly seed: number;
    /** The next inspection of a trap drawn uniformly from the fleet (this VU's sequence). */
    inspection(): Inspection;
    /** The next sensor-gateway batch of n readings (1–10000). */
    sensorBatch(n: number): SensorBatch;
    /** The i-th trap (0 ≤ i < size). */
    trap(i: number): TrapInfo;
    /** Number of traps per state. */
    counts(): Record<TrapState, number>;
  }

  export interface HeatStreamsOptions {
    seed?: number;
    /** Hot streams per request (default 3; at least 1). */
    hot?: number;
    /** Cold streams per request (default 3; at least 1). */
    cold?: number;
    /** ΔTmin in K (default 10). */
    dtMin?: number;
    /** One operation, or weights per operation (default "pinch_analysis"). */
    operation?: Operation | Partial<Record<Operation, number>>;
  }

  export interface HeatRequest {
    operation: Operation;
    /**
     * JSON text of a GL-006 request: {request_id, operation, delta_t_min,
     * streams: [{id, kind: "hot"|"cold", supply_temp_c, target_temp_c, cp_kw_k}],
     * economics?} — economics only for roi and full_analysis.
     */
    body: string;
  }

  /** The next GL-006 request of this VU's sequence for these options. */
  export function heatStreams(options?: HeatStreamsOptions): HeatRequest;
  /** Saturation temperature of steam at a gauge pressure (psig), °C. */
  export function saturationTempC(psig: number): number;
  /** Saturation temperature of steam at a gauge pressure (psig), °F. */
  export function saturationTempF(psig: number): number;
  /** All trap states. */
  export const states: TrapState[];
  /** All GL-006 operations. */
  export const operations: Operation[];

  const steamtrap: {
    Fleet: typeof Fleet;
    heatStreams: typeof heatStreams;
    saturationTempC: typeof saturationTempC;
    saturationTempF: typeof saturationTempF;
    states: typeof states;
    operations: typeof operations;
  };
  export default steamtrap;
}
