package provision

// KindExisting is an interface that is there already inside the
// namespace (made by a plugin earlier in a CNI chain): found, not made,
// recorded as existed and never deleted; what start adds to it (addresses,
// routes, sysctls) goes one by one at stop.
const KindExisting = "existing"

// unrouteObj is the absence of a default route through an inbound
// interface that existed already: create deletes the default routes
// there, keeping them in the record, and remove puts them back.
type unrouteObj struct {
	Dev string `json:"dev"`
	Of  string `json:"of"`
}

func (u unrouteObj) kind() string  { return "unroute" }
func (u unrouteObj) key() string   { return "unroute/ns/" + u.Dev }
func (u unrouteObj) owner() string { return u.Of }
func (u unrouteObj) render(n names) string {
	return ipn(n.ns, "route del default dev %s", u.Dev) + " && " + ipn(n.ns, "-6 route del default dev %s", u.Dev)
}

func (u unrouteObj) undo(n names) string {
	return "# put back the default routes through " + u.Dev + " that start removed"
}

// adoptedObjects are what an interface found in place needs besides its
// addresses and routes: inbound never carries a default route.
func adoptedObjects(s *Spec, ifc *Iface) []object {
	if ifc.Kind != KindExisting || s.role(ifc) != roleInbound {
		return nil
	}
	return []object{unrouteObj{Dev: ifc.Name, Of: linkObj{Name: ifc.Name}.key()}}
}
