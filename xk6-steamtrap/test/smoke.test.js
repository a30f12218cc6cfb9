// Smoke test of k6/x/steamtrap, run by the built binary (no network needed):
//   loadgen k6 run xk6-steamtrap/test/smoke.test.js
// Every check must pass.
import { check } from 'k6';
import steamtrap from 'k6/x/steamtrap';

export const options = {
  vus: 2,
  iterations: 200,
  thresholds: { checks: ['rate==1'] },
};

const fleet = new steamtrap.Fleet({ seed: 7, sites: 5, trapsPerSite: 40 });

export default function () {
  const insp = fleet.inspection();
  const body = JSON.parse(insp.body);
  const s = body.sensor_data;
  check(insp, {
    'identity matches the body': (i) => body.trap_id === i.trapId && body.site_id === i.siteId,
    'true state is beside the body, not in it': (i) => steamtrap.states.includes(i.state) && !('state' in body),
    'guide fields present': () => ['acoustic_frequency', 'thermal_temp', 'pressure'].every((k) => typeof s[k] === 'number'),
    'inlet not above saturation': () => s.thermal_temp <= steamtrap.saturationTempC(s.pressure) + 1.5,
    'outlet not above inlet beyond noise': () => s.outlet_temp_c <= s.thermal_temp + 3.1,
  });

  const batch = fleet.sensorBatch(10);
  check(batch, { 'batch has 10 readings': (b) => JSON.parse(b.body).readings.length === 10 && b.count === 10 });

  const hr = steamtrap.heatStreams({ seed: 7, hot: 2, cold: 2, operation: { pinch_analysis: 1, roi: 1 } });
  const req = JSON.parse(hr.body);
  check(req, {
    'operation matches': (r) => r.operation === hr.operation,
    'hot streams are cooled, cold streams heated': (r) =>
      r.streams.every((x) => (x.kind === 'hot' ? x.supply_temp_c > x.target_temp_c : x.supply_temp_c < x.target_temp_c) && x.cp_kw_k > 0),
  });

  let threw = '';
  try {
    new steamtrap.Fleet({ mix: { good: 0.5 } });
  } catch (e) {
    threw = String(e);
  }
  check(threw, { 'bad mix raises a JS exception': (m) => m.includes('fractions sum to 0.5') });
}
