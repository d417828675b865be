//go:build !linux

package hugepages

// system does nothing where there is no madvise(MADV_HUGEPAGE): mode "" makes a pass a no-op.
type system struct{}

func (system) mode() string                 { return "" }
func (system) disabled() bool               { return true }
func (system) mappings() ([]mapping, error) { return nil, nil }
func (system) advise(span) error            { return nil }
func (system) collapse(span) uint64         { return 0 }
func (system) huge() uint64                 { return 0 }
