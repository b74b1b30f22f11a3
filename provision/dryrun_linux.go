package provision

// DryRun renders what Start would do, touching nothing: the whole plan for
// a new namespace; for a provisioned one, only the difference and the
// repairs of drift, as commands.
func DryRun(spec *Spec) ([]string, error) {
	st, err := ReadState(spec.Name)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return Plan(spec), nil
	}
	out := planChange(objectsOf(st.Records), spec)
	k := newKernel(st.Spec, nil)
	defer k.close()
	if err := (nsObj{}).check(k, nsRecord(st)); err != nil {
		return Plan(spec), nil // start would make it again
	}
	want := map[string]bool{}
	for _, o := range desired(spec) {
		want[o.key()] = true
	}
	changed := map[string]bool{}
	for _, c := range diff(objectsOf(st.Records), desired(spec)) {
		changed[c.obj.key()] = true
	}
	for _, r := range st.Records {
		if !want[r.key()] || changed[r.key()] || changed[r.obj.owner()] {
			continue
		}
		if what := r.obj.(kobject).observe(k, r); what != "" {
			out = append(out, r.obj.render(k.n)+" # repair: "+what)
		}
	}
	return out, nil
}
