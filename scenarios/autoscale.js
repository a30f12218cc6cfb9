// The load profile of `loadgen autoscale`: constant-arrival-rate phases one
// after the other in one k6 run (one scenario per phase, each starting when
// the one before ends), so the target sees no gap between them.
//
//   BASE_URL     target root URL                  (default http://127.0.0.1:8080)
//   API_TOKEN    bearer token, if needed (never printed)
//   PHASES       rate:seconds,…                   (default 100:30,300:60,100:60)
//   VUS, MAX_VUS VUs pre-allocated and at most, per phase (default: rate × VU_SECONDS,
//                at least 10, and 4 × VUS)
//   VU_SECONDS   how long a request may take while the target is overloaded (default
//                0.5: a phase above capacity needs rate × latency VUs, Little's law)
//   ENDPOINT     inspection | predictions | pipeline | sensor-batch  (default inspection)
//   BATCH, SEED, TIMEOUT, GRACEFUL_STOP   as in gl008-step.js
//
//   PHASES=100:30,300:60 loadgen k6 run scenarios/autoscale.js
import http from 'k6/http';
import steamtrap from 'k6/x/steamtrap';

const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8080';
const ENDPOINT = __ENV.ENDPOINT || 'inspection';
const BATCH = Number(__ENV.BATCH || 50);
const phases = (__ENV.PHASES || '100:30,300:60,100:60').split(',').map((p) => {
  const [rate, secs] = p.split(':').map(Number);
  if (!(rate >= 1) || !(secs >= 1)) {
    throw new Error(`PHASES: ${p}: want rate:seconds`);
  }
  return { rate, secs };
});

const paths = {
  inspection: '/v1/steam-trap/inspection',
  predictions: '/v1/steam-trap/predictions',
  pipeline: '/v1/steam-trap/inspection/full',
  'sensor-batch': '/v1/steam-trap/sensors/batch',
};
if (!paths[ENDPOINT]) {
  throw new Error(`ENDPOINT=${ENDPOINT}: want one of ${Object.keys(paths).join(', ')}`);
}
const url = BASE_URL + paths[ENDPOINT];

const scenarios = {};
let start = 0;
phases.forEach((p, i) => {
  const vus = Number(__ENV.VUS || Math.max(10, Math.ceil(p.rate * Number(__ENV.VU_SECONDS || 0.5))));
  scenarios[`phase${i + 1}`] = {
    executor: 'constant-arrival-rate',
    rate: p.rate,
    timeUnit: '1s',
    duration: `${p.secs}s`,
    startTime: `${start}s`,
    preAllocatedVUs: vus,
    maxVUs: Number(__ENV.MAX_VUS || vus * 4),
    gracefulStop: __ENV.GRACEFUL_STOP || '35s',
  };
  start += p.secs;
});

export const options = {
  discardResponseBodies: true,
  scenarios,
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
};

const fleet = new steamtrap.Fleet({ seed: Number(__ENV.SEED || 1) });
const params = {
  headers: {
    'Content-Type': 'application/json',
    ...(__ENV.API_TOKEN ? { Authorization: `Bearer ${__ENV.API_TOKEN}` } : {}),
  },
  timeout: __ENV.TIMEOUT || '30s',
  tags: { name: ENDPOINT },
};

export default function () {
  const body = ENDPOINT === 'sensor-batch' ? fleet.sensorBatch(BATCH).body : fleet.inspection().body;
  http.post(url, body, params);
}
