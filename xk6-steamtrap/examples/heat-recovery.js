// Pinch analyses against a GL-006 service, 5 req/s for 30 s.
//   BASE_URL=http://127.0.0.1:8080 loadgen k6 run xk6-steamtrap/examples/heat-recovery.js
import http from 'k6/http';
import { check } from 'k6';
import steamtrap from 'k6/x/steamtrap';

export const options = {
  scenarios: { pinch: { executor: 'constant-arrival-rate', rate: 5, timeUnit: '1s', duration: '30s', preAllocatedVUs: 20 } },
};

export default function () {
  const req = steamtrap.heatStreams({ seed: 3, hot: 4, cold: 3, dtMin: 10, operation: 'pinch_analysis' });
  const res = http.post(`${__ENV.BASE_URL || 'http://127.0.0.1:8080'}/v1/heat-recovery/pinch-analysis`, req.body, {
    headers: { 'Content-Type': 'application/json' },
    timeout: '60s',
  });
  check(res, { 'status 200': (r) => r.status === 200 });
}
