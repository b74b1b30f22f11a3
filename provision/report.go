package provision

// Report is a namespace as the kernel shows it.
type Report struct {
	Name       string        `json:"name"`
	Path       string        `json:"path"`
	Complete   bool          `json:"complete"`
	Interfaces []IfaceReport `json:"interfaces"`
	Routes     []RouteReport `json:"routes"`
	PIDs       []int         `json:"pids"`
	Drift      []Difference  `json:"drift"` // what the kernel lacks of what start made
}

// IfaceReport is one link inside the namespace.
type IfaceReport struct {
	Name      string   `json:"name"`
	Kind      string   `json:"kind"`
	Up        bool     `json:"up"`
	MTU       int      `json:"mtu"`
	MAC       string   `json:"mac,omitempty"`
	Addresses []string `json:"addresses"`
}

// RouteReport is one route of the main table.
type RouteReport struct {
	To  string `json:"to"`
	Via string `json:"via,omitempty"`
	Dev string `json:"dev"`
}

// Difference is one object of the spec that the kernel does not have as
// start made it.
type Difference struct {
	Object  string `json:"object"`  // the object's key, e.g. "link/out0"
	What    string `json:"what"`    // "missing", or how it differs
	Command string `json:"command"` // what start would run to repair it
}
