package provision

// Outcome says what Start did.
type Outcome int

const (
	Created     Outcome = iota // the namespace was made
	Unchanged                  // already provisioned with the same spec, nothing to repair
	Reprovision                // deleted and made again (--recreate, or it was gone)
	Changed                    // changed in place to the spec, or repaired
)

func (o Outcome) String() string {
	switch o {
	case Unchanged:
		return "unchanged"
	case Reprovision:
		return "re-provisioned"
	case Changed:
		return "changed in place"
	}
	return "created"
}
