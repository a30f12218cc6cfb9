// GL-008 load test: the scaling guide's five-stage profile (Performance
// Benchmarks → Load Testing) with its thresholds, sending realistic
// inspection payloads from the xk6-steamtrap extension.
//
//   BASE_URL     target root URL            (default http://127.0.0.1:8080)
//   API_TOKEN    bearer token, if the target needs one (never printed)
//   TARGET_RPS   rate of stages 3–4         (default 500, as in the guide)
//   STAGE_SECONDS length of each stage      (default 60)
//   SEED         payload seed               (default 1)
//
//   loadgen k6 run scenarios/gl008-load.js
import http from 'k6/http';
import { check } from 'k6';
import steamtrap from 'k6/x/steamtrap';

const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8080';
const TARGET_RPS = Number(__ENV.TARGET_RPS || 500);
const STAGE = `${Number(__ENV.STAGE_SECONDS || 60)}s`;

export const options = {
  scenarios: {
    load: {
      executor: 'ramping-arrival-rate',
      startRate: 0,
      timeUnit: '1s',
      preAllocatedVUs: Math.max(50, Math.ceil(TARGET_RPS / 5)),
      maxVUs: Math.max(200, TARGET_RPS * 2),
      stages: [
        { duration: STAGE, target: 100 }, // ramp up to 100 RPS
        { duration: STAGE, target: 300 }, // ramp up to 300 RPS
        { duration: STAGE, target: TARGET_RPS }, // reach target
        { duration: STAGE, target: TARGET_RPS }, // sustain
        { duration: STAGE, target: 0 }, // ramp down
      ],
    },
  },
  thresholds: {
    http_req_duration: ['p(95)<2000'], // 95% of requests < 2 s
    http_req_failed: ['rate<0.05'], // < 5% errors
  },
};

const fleet = new steamtrap.Fleet({ seed: Number(__ENV.SEED || 1) });
const params = {
  headers: {
    'Content-Type': 'application/json',
    ...(__ENV.API_TOKEN ? { Authorization: `Bearer ${__ENV.API_TOKEN}` } : {}),
  },
  tags: { name: 'inspection' },
};

export default function () {
  const res = http.post(`${BASE_URL}/v1/steam-trap/inspection`, fleet.inspection().body, params);
  check(res, {
    'status is 200': (r) => r.status === 200,
    'response time < 2s': (r) => r.timings.duration < 2000,
  });
}
