package provision

// Drift observes every object start made for the namespace and lists
// those the kernel no longer has as made; empty: the kernel matches.
func Drift(st *State) []Difference {
	k := newKernel(st.Spec, nil)
	defer k.close()
	out := []Difference{}
	drifted := map[string]bool{}
	for _, r := range st.Records {
		if drifted[r.obj.owner()] { // listed with its owner
			drifted[r.key()] = true
			continue
		}
		if what := r.obj.(kobject).observe(k, r); what != "" {
			drifted[r.key()] = true
			out = append(out, Difference{Object: r.key(), What: what, Command: r.obj.render(k.n)})
			if r.Kind == "netns" {
				break // nothing inside can be observed
			}
		}
	}
	return out
}
