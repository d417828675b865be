package app_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/keyhold/keyhold/internal/rbac"
)

// TestSCIMProvisioningScenario drives a workspace the way Okta and Entra ID provision: look
// the user up, create it (a retried create answers 409), update it, put it in a group that
// grants a role, deactivate it (its token and its credential are refused at once),
// reactivate it (its credential works again, its old token stays dead), take it out of the
// group, delete it (a retried delete answers 404).
func TestSCIMProvisioningScenario(t *testing.T) { testSCIMProvisioning(t, newSCIMWorld(t)) }

func testSCIMProvisioning(t *testing.T, w *scimWorld) {
	e := w.e
	const email = "jane.doe@example.test"

	// Okta's first call: is the user there?
	if m := w.call(t, "GET", scimUsers+filterQ(`userName eq "`+email+`"`)+"&startIndex=1&count=100", w.admin, nil, http.StatusOK); m["totalResults"] != 0.0 {
		t.Fatalf("before create: %v", m)
	}
	body := newUser(email, "Jane", "Doe", true)
	body["externalId"] = "00u1abcd"
	body["schemas"] = []string{userURN, enterpriseURN}
	body[enterpriseURN] = map[string]any{"department": "Finance"}
	delete(body, userExt)
	id := w.call(t, "POST", scimUsers, w.admin, body, http.StatusCreated)["id"].(string)
	// The identity provider retries after a lost answer: uniqueness, and still one user.
	w.scimErr(t, "POST", scimUsers, w.admin, body, http.StatusConflict, "uniqueness")
	if m := w.call(t, "GET", scimUsers+filterQ(`userName eq "`+email+`"`), w.admin, nil, http.StatusOK); m["totalResults"] != 1.0 {
		t.Fatalf("after a retried create: %v", m)
	}
	// Okta updates with a PATCH without path; Entra ID with paths and capitalised ops.
	w.call(t, "PATCH", scimUsers+"/"+id, w.admin, patch(op("replace", "", map[string]any{
		"name": map[string]any{"givenName": "Janet", "familyName": "Doe"}, "displayName": "Janet Doe"})), http.StatusOK)
	w.call(t, "PATCH", scimUsers+"/"+id, w.admin, patch(op("Replace", enterpriseURN+":department", "Treasury"),
		op("Add", "externalId", "00u1abcd")), http.StatusOK)

	// A group granting the observer role; the user's own credential, made by an administrator.
	gid := w.call(t, "POST", scimGroups, w.admin, newGroup("Readers"), http.StatusCreated)["id"].(string)
	object(t, w.plain(t, "POST", "/authorization/v2alpha2/role-assignments", w.admin, map[string]any{
		"subject": "user-group:" + gid, "role": predefined(rbac.RoleWorkspaceObserver), "scope": []string{wsGRN(w.ws)}}, http.StatusCreated))
	cred := createCred(t, e, w.admin, map[string]string{"credentialName": "jane", "ownerId": id})
	tok := e.Token(t, w.ws, cred.ClientID, cred.ClientSecret)
	// The credential authenticates with a signed assertion too (private_key_jwt).
	key := newPKJKey(t, jose.ES256)
	if resp, raw := putKeys(t, e, w.admin, cred.ID, map[string]any{"jwks": jwksOf(key)}); resp.StatusCode != http.StatusOK {
		t.Fatalf("put keys: %d %s", resp.StatusCode, raw)
	}
	tokenURL := e.TokenURL(w.ws)
	assertion := func() url.Values {
		return assertionForm(key.assertion(t, pkjClaims(cred.ClientID, tokenURL, time.Now())))
	}
	postFormOK(t, e, tokenURL, assertion())
	w.scimErr(t, "GET", scimUsers, tok, nil, http.StatusForbidden, "")
	add := patch(op("add", "members", refs(id)))
	w.call(t, "PATCH", scimGroups+"/"+gid, w.admin, add, http.StatusOK)
	w.call(t, "PATCH", scimGroups+"/"+gid, w.admin, add, http.StatusOK) // retried: no change
	w.call(t, "GET", scimUsers, tok, nil, http.StatusOK)

	// Deactivation, as Entra ID sends it: the token dies at once, for bearer checks and
	// introspection, and the credential obtains no new token. The data stays.
	w.call(t, "PATCH", scimUsers+"/"+id, w.admin, patch(op("Replace", "active", "False")), http.StatusOK)
	w.scimErr(t, "GET", scimUsers, tok, nil, http.StatusUnauthorized, "")
	if m := oaIntrospect(t, e, w.ws, e.Admin.ClientID, e.Admin.ClientSecret, tok); m["active"] != false {
		t.Fatalf("introspection of a deactivated user's token: %v", m)
	}
	if status, code := credTokenStatus(t, e, w.ws, cred.ClientID, cred.ClientSecret); status != http.StatusUnauthorized || code != "invalid_client" {
		t.Fatalf("token for a deactivated user's credential: %d %s", status, code)
	}
	resp, raw := e.PostForm(t, tokenURL, assertion())
	wantInvalidClient(t, resp, raw, "a deactivated user's credential with private_key_jwt")
	got := w.call(t, "GET", scimUsers+"/"+id, w.admin, nil, http.StatusOK)
	if got["active"] != false || got["displayName"] != "Janet Doe" || got["externalId"] != "00u1abcd" {
		t.Fatalf("deactivated user: %v", got)
	}
	if m := w.call(t, "GET", scimBase+"/extensions/Groups/"+gid+"/users", w.admin, nil, http.StatusOK); len(resources(t, m)) != 1 {
		t.Fatalf("a deactivated user left its group: %v", m)
	}
	// Deactivating again changes nothing.
	w.call(t, "PATCH", scimUsers+"/"+id, w.admin, patch(op("replace", "active", false)), http.StatusOK)

	// Reactivation, as Okta sends it: the same secret works again; the old token does not.
	w.call(t, "PATCH", scimUsers+"/"+id, w.admin, patch(op("replace", "", map[string]any{"active": true})), http.StatusOK)
	w.scimErr(t, "GET", scimUsers, tok, nil, http.StatusUnauthorized, "")
	fresh := e.Token(t, w.ws, cred.ClientID, cred.ClientSecret)
	postFormOK(t, e, tokenURL, assertion())
	w.call(t, "GET", scimUsers, fresh, nil, http.StatusOK)

	// Out of the group: the role goes with it.
	w.call(t, "PATCH", scimGroups+"/"+gid, w.admin, patch(op("remove", `members[value eq "`+id+`"]`, nil)), http.StatusOK)
	w.scimErr(t, "GET", scimUsers, fresh, nil, http.StatusForbidden, "")

	// Delete, and a retried delete.
	w.call(t, "DELETE", scimUsers+"/"+id, w.admin, nil, http.StatusNoContent)
	w.scimErr(t, "DELETE", scimUsers+"/"+id, w.admin, nil, http.StatusNotFound, "")
	w.scimErr(t, "GET", scimUsers, fresh, nil, http.StatusUnauthorized, "")
	if status, _ := credTokenStatus(t, e, w.ws, cred.ClientID, cred.ClientSecret); status != http.StatusUnauthorized {
		t.Fatalf("token for a deleted user's credential: %d", status)
	}
}
