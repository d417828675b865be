package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const smID = "0b7c3a52-7c43-4e4e-9d7f-2f9f7e0d1a11"

func TestDefaultLoads(t *testing.T) {
	c := Default()
	if len(c.Regions()) == 0 || len(c.ServiceManagers()) == 0 {
		t.Fatal("the built-in catalogue is empty")
	}
	for _, sm := range c.ServiceManagers() {
		got, ok := c.ServiceManager(sm.ID)
		if !ok || got.Name != sm.Name || sm.CreatedAt.IsZero() || sm.Generation != 1 {
			t.Errorf("service manager %+v", sm)
		}
		for _, r := range sm.Regions {
			if _, ok := c.Region(r); !ok {
				t.Errorf("%s in unknown region %s", sm.Name, r)
			}
		}
	}
	if len(c.ManagersIn("us-west")) == 0 || len(c.ManagersIn("nowhere")) != 0 {
		t.Error("ManagersIn")
	}
}

func TestLoadYAMLAndJSON(t *testing.T) {
	dir := t.TempDir()
	yml := `# the operator's catalogue
regions:
  - id: lab-1
    name: Lab One
serviceManagers:
  - id: ` + smID + `
    name: Lab Manager
    regions: [lab-1]
    mspSupported: true
    generation: 3
    createdAt: 2025-05-01T10:00:00Z
`
	p := filepath.Join(dir, "catalog.yaml")
	if err := os.WriteFile(p, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sm, ok := c.ServiceManager(smID)
	if !ok || !sm.MSPSupported || sm.StandaloneSupported || sm.Generation != 3 ||
		!sm.CreatedAt.Equal(time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)) || sm.UpdatedAt.Before(sm.CreatedAt) {
		t.Fatalf("loaded %+v", sm)
	}
	j := filepath.Join(dir, "catalog.json")
	if err := os.WriteFile(j, []byte(`{"regions":[{"id":"lab-1","name":"Lab"}],"serviceManagers":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(j); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{filepath.Join(dir, "catalog.txt"), filepath.Join(dir, "missing.json")} {
		if _, err := LoadFile(bad); err == nil {
			t.Errorf("LoadFile(%s) succeeded", bad)
		}
	}
}

// TestParseRefuses: each bad catalogue is refused with an error naming the member.
func TestParseRefuses(t *testing.T) {
	region := `"regions":[{"id":"us-west","name":"US West"}]`
	sm := func(fields string) string {
		return `{` + region + `,"serviceManagers":[{"id":"` + smID + `","name":"A","regions":["us-west"]` + fields + `}]}`
	}
	for _, c := range []struct{ doc, want string }{
		{`{"serviceManagers":[]}`, "regions: at least one"},
		{`{"regions":[{"id":"US West","name":"x"}]}`, "regions[0].id"},
		{`{"regions":[{"id":"a","name":"x"},{"id":"a","name":"y"}]}`, "regions[1].id"},
		{`{"regions":[{"id":"a","name":""}]}`, "regions[0].name: is required"},
		{`{"regions":[{"id":"a","name":"x\u0007"}]}`, "regions[0].name"},
		{`{"regions":[{"id":"a","name":"x","code":1}]}`, `"code" is not a catalogue member`},
		{`{"regionz":[]}`, `"regionz" is not a catalogue member`},
		{`{` + region + `,"serviceManagers":[{"id":"nope","name":"A","regions":["us-west"]}]}`, "serviceManagers[0].id"},
		{sm(`,"name2":1`), "name2"},
		{`{` + region + `,"serviceManagers":[{"id":"` + smID + `","name":"","regions":["us-west"]}]}`, "serviceManagers[0].name"},
		{`{` + region + `,"serviceManagers":[{"id":"` + smID + `","name":"` + strings.Repeat("n", 65) + `","regions":["us-west"]}]}`, "serviceManagers[0].name: at most 64"},
		{sm(`,"description":"` + strings.Repeat("d", 1025) + `"`), "serviceManagers[0].description"},
		{`{` + region + `,"serviceManagers":[{"id":"` + smID + `","name":"A","regions":[]}]}`, "serviceManagers[0].regions: at least one"},
		{`{` + region + `,"serviceManagers":[{"id":"` + smID + `","name":"A","regions":["eu-west"]}]}`, `serviceManagers[0].regions[0]: "eu-west"`},
		{`{` + region + `,"serviceManagers":[{"id":"` + smID + `","name":"A","regions":["us-west","us-west"]}]}`, "serviceManagers[0].regions[1]"},
		{sm(`,"mspSupported":"yes"`), "mspSupported: must be true or false"},
		{sm(`,"generation":0`), "serviceManagers[0].generation"},
		{sm(`,"createdAt":"yesterday"`), "RFC 3339"},
		{sm(`,"createdAt":"2030-01-01T00:00:00Z","updatedAt":"2029-01-01T00:00:00Z"`), "serviceManagers[0].updatedAt"},
		{sm(`,"mspOnlySupported":true,"tenantOnlySupported":true`), "serviceManagers[0]: mspOnlySupported"},
		{`{` + region + `,"serviceManagers":[{"id":"` + smID + `","name":"A","regions":["us-west"]},{"id":"` + smID + `","name":"B","regions":["us-west"]}]}`, "serviceManagers[1].id"},
		{`{` + region + `,"serviceManagers":[{"id":"` + smID + `","name":"A","regions":["us-west"]},{"id":"1b7c3a52-7c43-4e4e-9d7f-2f9f7e0d1a11","name":"a","regions":["us-west"]}]}`, "serviceManagers[1].name"},
		{`{} {}`, "more than one document"},
		{`[]`, "the catalogue: must be an object"},
		{`{"regions":{}}`, "regions: must be a list"},
	} {
		_, err := Parse([]byte(c.doc), false, time.Time{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%s) = %v, want an error naming %q", c.doc, err, c.want)
		}
	}
	if _, err := Parse([]byte("regions: [unclosed"), true, time.Time{}); err == nil || !strings.Contains(err.Error(), "YAML") {
		t.Errorf("bad YAML: %v", err)
	}
}

// FuzzParse: any input is a catalogue or an error, never a panic; a catalogue's managers are
// all in regions it defines.
func FuzzParse(f *testing.F) {
	f.Add([]byte(defaultFile), false)
	f.Add([]byte("regions:\n  - id: a\n    name: A\n"), true)
	f.Add([]byte(`{"regions":[{"id":"a","name":"A"}],"serviceManagers":[{"id":"`+smID+`","name":"x","regions":["a"]}]}`), false)
	f.Fuzz(func(t *testing.T, data []byte, yamlForm bool) {
		c, err := Parse(data, yamlForm, time.Time{})
		if err != nil {
			return
		}
		for _, sm := range c.ServiceManagers() {
			for _, r := range sm.Regions {
				if _, ok := c.Region(r); !ok {
					t.Fatalf("%s in undefined region %s", sm.ID, r)
				}
			}
		}
	})
}
