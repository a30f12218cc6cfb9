package guides

import "slices"

// Register registers s as a service file of this package would, its
// built-in benchmarks file read by read, until the function it returns
// removes it again. A test that calls it must not run in parallel with the
// tests that list the services.
func Register(s Service, read func() ([]byte, error)) (unregister func()) {
	registerWith(s, read)
	return func() {
		registry = slices.DeleteFunc(registry, func(r *registered) bool { return r.svc == s })
	}
}
