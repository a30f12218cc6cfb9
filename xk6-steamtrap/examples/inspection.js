// Post realistic inspections to a GL-008 service at 50 req/s for 30 s.
//   BASE_URL=http://127.0.0.1:8080 loadgen k6 run xk6-steamtrap/examples/inspection.js
import http from 'k6/http';
import { check } from 'k6';
import steamtrap from 'k6/x/steamtrap';

export const options = {
  scenarios: { inspect: { executor: 'constant-arrival-rate', rate: 50, timeUnit: '1s', duration: '30s', preAllocatedVUs: 20 } },
};

const fleet = new steamtrap.Fleet({ seed: 42, sites: 20, trapsPerSite: 100, mix: { good: 0.7, leaking: 0.1, failed_open: 0.1, failed_closed: 0.05, flooded: 0.05 } });

export default function () {
  const insp = fleet.inspection();
  const res = http.post(`${__ENV.BASE_URL || 'http://127.0.0.1:8080'}/v1/steam-trap/inspection`, insp.body, {
    headers: { 'Content-Type': 'application/json' },
  });
  // The true state travels beside the request, so the service's answer can be scored.
  check(res, {
    'status 200': (r) => r.status === 200,
    'classified correctly': (r) => r.status === 200 && r.json('state') === insp.state,
  });
}
