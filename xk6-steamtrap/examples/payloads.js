// Print a few payloads of every kind (no network).
//   loadgen k6 run -q xk6-steamtrap/examples/payloads.js
import steamtrap from 'k6/x/steamtrap';

export const options = { iterations: 1 };
const fleet = new steamtrap.Fleet({ seed: 1, sites: 2, trapsPerSite: 10, pressurePsig: 150 });

export default function () {
  for (let i = 0; i < 3; i++) {
    const insp = fleet.inspection();
    console.log(`${insp.trapId} (${insp.state}): ${insp.body}`);
  }
  console.log(`batch: ${fleet.sensorBatch(2).body}`);
  console.log(`trap 0: ${JSON.stringify(fleet.trap(0))}`);
  console.log(`saturation at 150 psig: ${steamtrap.saturationTempF(150).toFixed(1)} °F`);
  const hr = steamtrap.heatStreams({ seed: 1, hot: 2, cold: 2, dtMin: 10, operation: 'roi' });
  console.log(`${hr.operation}: ${hr.body}`);
}
