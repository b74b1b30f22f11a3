package provision

// Plan renders what start makes for spec, as the equivalent commands,
// without touching anything. The spec must be valid and normalized.
func Plan(spec *Spec) []string {
	n := names{ns: spec.Name, host: spec.HostNetns}
	var out []string
	for _, o := range desired(spec) {
		out = append(out, o.render(n))
	}
	return out
}

// planChange renders what start does to a namespace provisioned with
// was (its objects have) when it is given spec.
func planChange(have []object, spec *Spec) []string {
	n := names{ns: spec.Name, host: spec.HostNetns}
	var out []string
	for _, c := range diff(have, desired(spec)) {
		out = append(out, c.render(n))
	}
	return out
}
