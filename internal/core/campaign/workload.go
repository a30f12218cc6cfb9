package campaign

import "github.com/greenlang/loadgen/internal/guides"

// Workload is what the campaign exercises, as the guides attribute it
// (guides.Run): its scenario, endpoint and script environment.
func (c Config) Workload() guides.Workload {
	return guides.Workload{Scenario: c.Scenario, Endpoint: c.Endpoint, Env: c.Env}
}
