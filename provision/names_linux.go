package provision

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// Names lists the namespaces that have a state file, sorted.
func Names() ([]string, error) {
	entries, err := os.ReadDir(StateDir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", StateDir, err)
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok && ValidName(n) == nil {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}
