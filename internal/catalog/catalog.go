package catalog

import (
	"bytes"
	_ "embed" // the built-in catalogue
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"sigs.k8s.io/yaml"

	"github.com/keyhold/keyhold/internal/ids"
)

// Region is a platform region, such as us-west.
type Region struct {
	ID   string // the region code: lower-case letters, digits and -, at most 63
	Name string // for people, such as "US West"
}

// ServiceManager is a service manager of the catalogue and what it supports.
type ServiceManager struct {
	ID                         string // canonical UUID
	Name                       string
	Description                string
	Regions                    []string // region codes, in the file's order
	StandaloneSupported        bool
	MSPSupported               bool
	MSPOnlySupported           bool
	TenantOnlySupported        bool
	HonorUnprovisionResponse   bool
	WorkspaceTransferSupported bool
	WorkspaceOpModesSupported  string
	Generation                 int64
	CreatedAt, UpdatedAt       time.Time
}

// AvailableIn reports whether the manager is offered in region.
func (sm *ServiceManager) AvailableIn(region string) bool { return slices.Contains(sm.Regions, region) }

// Catalog is a loaded, validated catalogue. It is immutable: share it freely.
type Catalog struct {
	regions  []Region
	managers []ServiceManager
	byID     map[string]*ServiceManager
	region   map[string]*Region
}

// Limits of a catalogue's values.
const (
	maxName        = 64
	maxDescription = 1024
	maxOpModes     = 64
	maxFileBytes   = 4 << 20
)

var regionCode = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidRegionCode reports whether s has the form of a region code.
func ValidRegionCode(s string) bool { return regionCode.MatchString(s) }

// Regions lists the regions in the file's order.
func (c *Catalog) Regions() []Region { return c.regions }

// ServiceManagers lists the service managers in the file's order.
func (c *Catalog) ServiceManagers() []ServiceManager { return c.managers }

// ServiceManager finds a service manager by its canonical id.
func (c *Catalog) ServiceManager(id string) (*ServiceManager, bool) {
	sm, ok := c.byID[id]
	return sm, ok
}

// Region finds a region by its code.
func (c *Catalog) Region(code string) (*Region, bool) {
	r, ok := c.region[code]
	return r, ok
}

// ManagersIn lists the service managers available in region, in the file's order.
func (c *Catalog) ManagersIn(region string) []*ServiceManager {
	var out []*ServiceManager
	for i := range c.managers {
		if c.managers[i].AvailableIn(region) {
			out = append(out, &c.managers[i])
		}
	}
	return out
}

//go:embed default.json
var defaultFile []byte

// Default is the catalogue built into the binary (default.json beside this file).
func Default() *Catalog {
	c, err := Parse(defaultFile, false, time.Time{})
	if err != nil {
		panic("catalog: the built-in catalogue does not load: " + err.Error())
	}
	return c
}

// LoadFile reads and validates a catalogue file: YAML when its name ends in .yaml or .yml,
// JSON when it ends in .json. Times the file does not give default to its modification time.
func LoadFile(path string) (*Catalog, error) {
	yamlFile := false
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		yamlFile = true
	case ".json":
	default:
		return nil, fmt.Errorf("service catalogue %s: the file name must end in .json, .yaml or .yml", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("service catalogue: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("service catalogue: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("service catalogue %s: %w", path, err)
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("service catalogue %s: larger than %d bytes", path, maxFileBytes)
	}
	c, err := Parse(data, yamlFile, st.ModTime())
	if err != nil {
		return nil, fmt.Errorf("service catalogue %s: %w", path, err)
	}
	return c, nil
}

// fileCatalog is the file's form.
type fileCatalog struct {
	UpdatedAt       *time.Time    `json:"updatedAt"`
	Regions         []fileRegion  `json:"regions"`
	ServiceManagers []fileManager `json:"serviceManagers"`
}

type fileRegion struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type fileManager struct {
	ID                         string     `json:"id"`
	Name                       string     `json:"name"`
	Description                string     `json:"description"`
	Regions                    []string   `json:"regions"`
	StandaloneSupported        bool       `json:"standaloneSupported"`
	MSPSupported               bool       `json:"mspSupported"`
	MSPOnlySupported           bool       `json:"mspOnlySupported"`
	TenantOnlySupported        bool       `json:"tenantOnlySupported"`
	HonorUnprovisionResponse   bool       `json:"honorUnprovisionResponse"`
	WorkspaceTransferSupported bool       `json:"workspaceTransferSupported"`
	WorkspaceOpModesSupported  string     `json:"workspaceOpModesSupported"`
	Generation                 *int64     `json:"generation"`
	CreatedAt                  *time.Time `json:"createdAt"`
	UpdatedAt                  *time.Time `json:"updatedAt"`
}

// Parse validates a catalogue given as JSON (or YAML when yamlForm). Times it does not give
// default to the file's updatedAt, else to modTime (the zero time for the built-in one
// stands for the Unix epoch).
func Parse(data []byte, yamlForm bool, modTime time.Time) (*Catalog, error) {
	if yamlForm {
		j, err := yaml.YAMLToJSON(data)
		if err != nil {
			return nil, fmt.Errorf("not valid YAML: %w", err)
		}
		data = j
	}
	var f fileCatalog
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, decodeError(err)
	}
	if dec.More() {
		return nil, errors.New("more than one document")
	}
	stamp := modTime.UTC().Truncate(time.Millisecond)
	if f.UpdatedAt != nil {
		stamp = f.UpdatedAt.UTC()
	}
	if stamp.IsZero() {
		stamp = time.Unix(0, 0).UTC()
	}
	c := &Catalog{byID: map[string]*ServiceManager{}, region: map[string]*Region{}}
	if err := c.addRegions(f.Regions); err != nil {
		return nil, err
	}
	if err := c.addManagers(f.ServiceManagers, stamp); err != nil {
		return nil, err
	}
	return c, nil
}

// decodeError names the member a decoding error is about.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		at := te.Field
		if at == "" {
			at = "the catalogue"
		}
		return fmt.Errorf("%s: must be %s", at, kindOf(te.Type.String()))
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("a time is not RFC 3339 (%q)", pe.Value)
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		return fmt.Errorf("%s is not a catalogue member", strings.TrimPrefix(msg, "json: unknown field "))
	}
	return fmt.Errorf("not a valid catalogue: %w", err)
}

func kindOf(goType string) string {
	switch {
	case strings.Contains(goType, "[]"):
		return "a list"
	case strings.HasSuffix(goType, "string"):
		return "a string"
	case strings.HasSuffix(goType, "bool"):
		return "true or false"
	case strings.HasSuffix(goType, "int64"):
		return "an integer"
	}
	return "an object"
}

func (c *Catalog) addRegions(regions []fileRegion) error {
	if len(regions) == 0 {
		return errors.New("regions: at least one region is required")
	}
	for i, r := range regions {
		at := fmt.Sprintf("regions[%d]", i)
		if !regionCode.MatchString(r.ID) {
			return fmt.Errorf("%s.id: %q is not a region code (lower-case letters, digits and -, at most 63)", at, r.ID)
		}
		if c.region[r.ID] != nil {
			return fmt.Errorf("%s.id: %q is defined twice", at, r.ID)
		}
		if err := text(at+".name", r.Name, 1, maxName); err != nil {
			return err
		}
		c.regions = append(c.regions, Region(r))
		c.region[r.ID] = &c.regions[len(c.regions)-1]
	}
	for i := range c.regions { // the slice may have moved while growing
		c.region[c.regions[i].ID] = &c.regions[i]
	}
	return nil
}

func (c *Catalog) addManagers(list []fileManager, stamp time.Time) error {
	names := map[string]bool{}
	for i, m := range list {
		sm, err := c.manager(fmt.Sprintf("serviceManagers[%d]", i), m, stamp)
		if err != nil {
			return err
		}
		if c.byID[sm.ID] != nil {
			return fmt.Errorf("serviceManagers[%d].id: %s is defined twice", i, sm.ID)
		}
		if names[strings.ToLower(sm.Name)] {
			return fmt.Errorf("serviceManagers[%d].name: %q is the name of another service manager", i, sm.Name)
		}
		names[strings.ToLower(sm.Name)] = true
		c.managers = append(c.managers, sm)
		c.byID[sm.ID] = &c.managers[len(c.managers)-1]
	}
	for i := range c.managers {
		c.byID[c.managers[i].ID] = &c.managers[i]
	}
	return nil
}

func (c *Catalog) manager(at string, m fileManager, stamp time.Time) (ServiceManager, error) {
	id, err := ids.Parse(m.ID)
	if err != nil {
		return ServiceManager{}, fmt.Errorf("%s.id: %q is not a UUID", at, m.ID)
	}
	if err := text(at+".name", m.Name, 1, maxName); err != nil {
		return ServiceManager{}, err
	}
	if err := text(at+".description", m.Description, 0, maxDescription); err != nil {
		return ServiceManager{}, err
	}
	if err := text(at+".workspaceOpModesSupported", m.WorkspaceOpModesSupported, 0, maxOpModes); err != nil {
		return ServiceManager{}, err
	}
	if len(m.Regions) == 0 {
		return ServiceManager{}, fmt.Errorf("%s.regions: at least one region is required", at)
	}
	for j, r := range m.Regions {
		if c.region[r] == nil {
			return ServiceManager{}, fmt.Errorf("%s.regions[%d]: %q is not a region of the catalogue", at, j, r)
		}
		if slices.Contains(m.Regions[:j], r) {
			return ServiceManager{}, fmt.Errorf("%s.regions[%d]: %q is listed twice", at, j, r)
		}
	}
	if m.MSPOnlySupported && m.TenantOnlySupported {
		return ServiceManager{}, fmt.Errorf("%s: mspOnlySupported and tenantOnlySupported cannot both be true", at)
	}
	sm := ServiceManager{ID: id, Name: m.Name, Description: m.Description, Regions: slices.Clone(m.Regions),
		StandaloneSupported: m.StandaloneSupported, MSPSupported: m.MSPSupported, MSPOnlySupported: m.MSPOnlySupported,
		TenantOnlySupported: m.TenantOnlySupported, HonorUnprovisionResponse: m.HonorUnprovisionResponse,
		WorkspaceTransferSupported: m.WorkspaceTransferSupported, WorkspaceOpModesSupported: m.WorkspaceOpModesSupported,
		Generation: 1, CreatedAt: stamp, UpdatedAt: stamp}
	if m.Generation != nil {
		if *m.Generation < 1 {
			return ServiceManager{}, fmt.Errorf("%s.generation: must be at least 1", at)
		}
		sm.Generation = *m.Generation
	}
	if m.CreatedAt != nil {
		sm.CreatedAt = m.CreatedAt.UTC()
	}
	if m.UpdatedAt != nil {
		sm.UpdatedAt = m.UpdatedAt.UTC()
	}
	if sm.UpdatedAt.Before(sm.CreatedAt) {
		return ServiceManager{}, fmt.Errorf("%s.updatedAt: is before createdAt", at)
	}
	return sm, nil
}

// text checks a string member: its length in characters, and no control or format
// characters (names are shown to people).
func text(at, v string, minLen, maxLen int) error {
	n := utf8.RuneCountInString(v)
	switch {
	case n < minLen:
		return fmt.Errorf("%s: is required", at)
	case n > maxLen:
		return fmt.Errorf("%s: at most %d characters", at, maxLen)
	case strings.TrimSpace(v) != v:
		return fmt.Errorf("%s: must not begin or end with spaces", at)
	case strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0:
		return fmt.Errorf("%s: must not contain control or format characters", at)
	}
	return nil
}
