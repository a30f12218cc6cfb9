// One step of a GL-006 stress campaign: a constant arrival rate of one
// HeatRecoveryMaximizer operation. `loadgen stress --scenario gl006-step
// --endpoint pinch_analysis` runs it once per step; it can also be run by hand.
//
//   BASE_URL   target root URL                               (default http://127.0.0.1:8080)
//   API_TOKEN  bearer token, if needed (never printed)
//   ENDPOINT   the operation: stream_analysis, pinch_analysis, network_synthesis, roi,
//              full_analysis                                  (default pinch_analysis)
//   RATE       requests per second                           (default 5)
//   DURATION   step length                                   (default 2m)
//   TIMEOUT    per-request timeout (default: the operation's, TIMEOUTS below)
//   GRACEFUL_STOP  how long requests in flight at the end may finish (default: timeout + 5 s)
//   VUS, MAX_VUS, SEED, HOT, COLD (default 4, 4), DT_MIN (default 10)
//
//   ENDPOINT=roi RATE=20 DURATION=30s loadgen k6 run scenarios/gl006-step.js
import http from 'k6/http';
import steamtrap from 'k6/x/steamtrap';

const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8080';
const RATE = Number(__ENV.RATE || 5);
const VUS = Number(__ENV.VUS || Math.max(10, Math.ceil(RATE * 2)));
const OPERATION = __ENV.ENDPOINT || 'pinch_analysis';
if (!steamtrap.operations.includes(OPERATION)) {
  throw new Error(`ENDPOINT=${OPERATION}: want one of ${steamtrap.operations.join(', ')}`);
}
const url = `${BASE_URL}/v1/heat-recovery/${OPERATION.replace(/_/g, '-')}`;

// Per-request timeouts, s: four times each operation's average duration in
// GL-006 §8.1, never under 30 s (the driver's campaign.OperationTimeouts).
const TIMEOUTS = { stream_analysis: 30, pinch_analysis: 30, roi: 30, network_synthesis: 120, full_analysis: 240 };
const TIMEOUT = __ENV.TIMEOUT || `${TIMEOUTS[OPERATION]}s`;

export const options = {
  discardResponseBodies: true,
  scenarios: {
    step: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: __ENV.DURATION || '2m',
      preAllocatedVUs: VUS,
      maxVUs: Number(__ENV.MAX_VUS || VUS * 4),
      gracefulStop: __ENV.GRACEFUL_STOP || `${TIMEOUTS[OPERATION] + 5}s`,
    },
  },
};

const opts = {
  seed: Number(__ENV.SEED || 1),
  hot: Number(__ENV.HOT || 4),
  cold: Number(__ENV.COLD || 4),
  dtMin: Number(__ENV.DT_MIN || 10),
  operation: OPERATION,
};
const params = {
  headers: {
    'Content-Type': 'application/json',
    ...(__ENV.API_TOKEN ? { Authorization: `Bearer ${__ENV.API_TOKEN}` } : {}),
  },
  timeout: TIMEOUT,
  tags: { name: OPERATION, operation: OPERATION },
};

export default function () {
  http.post(url, steamtrap.heatStreams(opts).body, params);
}
