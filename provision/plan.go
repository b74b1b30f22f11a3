package provision

// Plan renders spec's plan as the equivalent commands, without touching
// anything. The spec must be valid.
func Plan(spec *Spec) []string {
	steps := buildPlan(spec)
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.cmd
	}
	return out
}
