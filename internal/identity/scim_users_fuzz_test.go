package identity

import (
	"encoding/json"
	"net/mail"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/storage"
)

// lowerKeys decodes a JSON object with its keys lower-cased, as the HTTP layer does.
func lowerKeys(raw []byte) (map[string]json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return nil, false
	}
	out := map[string]json.RawMessage{}
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out, true
}

var userBodySeeds = []string{
	`{"userName":"a@example.test","name":{"givenName":"A","familyName":"B"},"active":true}`,
	`{"userName":"a@example.test","emails":[{"value":"A@example.test","primary":true}]}`,
	`{"userName":"a@example.test","emails":"a@example.test","displayName":null}`,
	`{"userName":"a@example.test","urn:ietf:params:scim:schemas:extension:enterprise:2.0:user":{"manager":{"value":"m"},"department":7}}`,
	`{"userName":"a@example.test","urn:ietf:params:scim:schemas:extensions:hpe-greenlake:2.0:user":{"countryCode":"US","status":"ACTIVE"}}`,
	`{"userName":"a@example.test","password":"x"}`,
	`{"userName":"not an email"}`,
	`{"userName":7}`,
	`{"username":"a@example.test","name":"x"}`,
	`{"userName":"a@example.test","active":"False","id":"x","meta":{}}`,
}

// FuzzSCIMUserBody: any create body either is refused with an application error or gives a
// user with a plain email, bounded names and attributes that are a JSON object.
func FuzzSCIMUserBody(f *testing.F) {
	for _, s := range userBodySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, ok := lowerKeys(raw)
		if !ok {
			return
		}
		u, err := SCIMUserBody(m)
		if err != nil {
			return
		}
		if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
			t.Fatalf("accepted userName %q", u.Email)
		}
		var attrs map[string]any
		if json.Unmarshal([]byte(u.Attributes), &attrs) != nil || attrs == nil {
			t.Fatalf("attributes %q", u.Attributes)
		}
		if len([]rune(u.FirstName)) > maxNamePart || len([]rune(u.DisplayName)) > maxDisplayName {
			t.Fatalf("unbounded names: %+v", u)
		}
	})
}

var userPatchSeeds = []string{
	`[{"op":"replace","path":"name.givenName","value":"X"}]`,
	`[{"op":"Replace","path":"active","value":"False"}]`,
	`[{"op":"add","value":{"displayName":"D","name":{"familyName":"F"},"active":true}}]`,
	`[{"op":"replace","path":"emails[type eq \"work\"].value","value":"u@example.test"}]`,
	`[{"op":"remove","path":"emails[type eq \"home\"]"}]`,
	`[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]`,
	`[{"op":"replace","path":"urn:ietf:params:scim:schemas:extensions:hpe-greenlake:2.0:User:countryCode","value":"FR"}]`,
	`[{"op":"replace","path":"userName","value":"other@example.test"}]`,
	`[{"op":"remove","path":""}]`,
	`[{"op":"replace","path":"name[","value":1}]`,
}

// FuzzSCIMUserPatch: any list of operations either fails with an application error or
// leaves a plan that keeps the user's email and passes or fails check without panicking.
func FuzzSCIMUserPatch(f *testing.F) {
	for _, s := range userPatchSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var ops []struct {
			Op    string          `json:"op"`
			Path  string          `json:"path"`
			Value json.RawMessage `json:"value"`
		}
		if json.Unmarshal(raw, &ops) != nil || len(ops) > 20 {
			return
		}
		u := &storage.User{ID: "u", Email: "u@example.test", FirstName: "F", Attributes: `{"department":"D"}`}
		p, err := planOf(u)
		if err != nil {
			t.Fatal(err)
		}
		for i, op := range ops {
			p.field = func(part string) string { return opField(i, part) }
			if err := p.applyOp(i, PatchOp{Op: op.Op, Path: op.Path, Value: op.Value}); err != nil {
				return
			}
		}
		if p.email != u.Email {
			t.Fatalf("a PATCH changed the email to %q", p.email)
		}
		_ = p.check()
		if _, _, err := p.changed(u); err != nil {
			t.Fatal(err)
		}
	})
}
