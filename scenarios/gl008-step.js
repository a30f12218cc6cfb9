// One step of a stress campaign: a constant arrival rate (open model) of
// GL-008 requests for a fixed time. `loadgen stress` runs it once per step;
// it can also be run by hand.
//
//   BASE_URL     target root URL                  (default http://127.0.0.1:8080)
//   API_TOKEN    bearer token, if needed (never printed)
//   RATE         requests per second              (default 100)
//   DURATION     step length, k6 duration syntax  (default 2m)
//   VUS          pre-allocated VUs                (default RATE / 5, at least 10)
//   MAX_VUS      VU ceiling                       (default 4 × VUS)
//   ENDPOINT     inspection | predictions | pipeline | sensor-batch  (default inspection)
//   BATCH        readings per sensor batch        (default 50)
//   SEED         payload seed                     (default 1)
//   TIMEOUT      per-request timeout              (default 30s)
//   GRACEFUL_STOP  how long requests in flight at the end may finish (default 35s:
//                the timeout + 5 s, so that every slow request is counted)
//
//   RATE=200 DURATION=30s loadgen k6 run scenarios/gl008-step.js
import http from 'k6/http';
import steamtrap from 'k6/x/steamtrap';

const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8080';
const RATE = Number(__ENV.RATE || 100);
const VUS = Number(__ENV.VUS || Math.max(10, Math.ceil(RATE / 5)));
const ENDPOINT = __ENV.ENDPOINT || 'inspection';
const BATCH = Number(__ENV.BATCH || 50);

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
      gracefulStop: __ENV.GRACEFUL_STOP || '35s',
    },
  },
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
