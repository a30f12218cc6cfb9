// GL-006 mixed workload: the five operations of the scaling guide's §8.1,
// weighted like a day of requests (mostly stream analyses and pinch
// analyses, few full analyses), at a constant arrival rate.
//
//   BASE_URL   target root URL                  (default http://127.0.0.1:8080)
//   API_TOKEN  bearer token, if needed (never printed)
//   RATE       requests per second              (default 10)
//   DURATION   k6 duration                      (default 1m)
//   HOT, COLD  streams per request              (default 4 and 4)
//   DT_MIN     ΔTmin in K                       (default 10)
//   SEED       payload seed                     (default 1)
//   TIMEOUT    per-request timeout              (default: each operation's, TIMEOUTS below)
//
//   RATE=5 DURATION=30s loadgen k6 run scenarios/gl006-mixed.js
import http from 'k6/http';
import { check } from 'k6';
import steamtrap from 'k6/x/steamtrap';

const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8080';
const RATE = Number(__ENV.RATE || 10);

// Per-request timeouts, s: four times each operation's average duration in
// GL-006 §8.1, never under 30 s (the driver's campaign.OperationTimeouts).
const TIMEOUTS = { stream_analysis: 30, pinch_analysis: 30, roi: 30, network_synthesis: 120, full_analysis: 240 };

export const options = {
  scenarios: {
    mixed: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: __ENV.DURATION || '1m',
      preAllocatedVUs: Math.max(10, RATE * 2),
      maxVUs: Math.max(50, RATE * 20),
      gracefulStop: __ENV.GRACEFUL_STOP || '245s',
    },
  },
  thresholds: {
    // GL-006 §7.1 scales up when P99 latency stays above 5 s.
    'http_req_duration{operation:stream_analysis}': ['p(99)<5000'],
    http_req_failed: ['rate<0.05'],
  },
};

const opts = {
  seed: Number(__ENV.SEED || 1),
  hot: Number(__ENV.HOT || 4),
  cold: Number(__ENV.COLD || 4),
  dtMin: Number(__ENV.DT_MIN || 10),
  operation: { stream_analysis: 40, pinch_analysis: 30, roi: 20, network_synthesis: 7, full_analysis: 3 },
};
const headers = {
  'Content-Type': 'application/json',
  ...(__ENV.API_TOKEN ? { Authorization: `Bearer ${__ENV.API_TOKEN}` } : {}),
};

export default function () {
  const req = steamtrap.heatStreams(opts);
  const res = http.post(`${BASE_URL}/v1/heat-recovery/${req.operation.replace(/_/g, '-')}`, req.body, {
    headers,
    timeout: __ENV.TIMEOUT || `${TIMEOUTS[req.operation]}s`,
    tags: { name: req.operation, operation: req.operation },
  });
  check(res, { 'status is 200': (r) => r.status === 200 });
}
