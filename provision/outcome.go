package provision

// Outcome says what Start did.
type Outcome int

const (
	Created     Outcome = iota // the namespace was made
	Unchanged                  // already provisioned with the same spec
	Reprovision                // torn down and made again with the new spec
)

func (o Outcome) String() string {
	switch o {
	case Unchanged:
		return "unchanged"
	case Reprovision:
		return "re-provisioned"
	}
	return "created"
}
