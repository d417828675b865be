package client_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/keyhold/keyhold/client"
)

// The later endpoints through the SDK, against a real keyhold: token settings, TLS client
// authentication, the workspace contact, a user's preferences, the service catalogue.
func TestSettingsAndCatalogue(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	cr := must[*client.Credential](t)(w.admin.CreateCredential(ctx, client.CredentialInput{Name: "settings"}))

	ts := must[*client.TokenSettings](t)(w.admin.SetTokenSettings(ctx, cr.ID,
		client.TokenSettings{TokenLifetime: 300, Audiences: []string{"https://reports.example.com"}}))
	if ts.TokenLifetime != 300 || len(ts.Audiences) != 1 {
		t.Fatalf("token settings %+v", ts)
	}
	if got := must[*client.TokenSettings](t)(w.admin.GetTokenSettings(ctx, cr.ID)); got.TokenLifetime != 300 {
		t.Fatalf("read back %+v", got)
	}
	_, err := w.admin.SetTokenSettings(ctx, cr.ID, client.TokenSettings{TokenLifetime: 5})
	wantField(t, err, "tokenLifetime")
	_, err = w.other.GetTokenSettings(ctx, cr.ID)
	wantError(t, err, http.StatusNotFound)

	tls := must[*client.TLSClientAuth](t)(w.admin.SetTLSClientAuth(ctx, cr.ID, client.TLSClientAuth{SubjectDN: "CN=job,O=Acme"}))
	if tls.SubjectDN != "CN=job,O=Acme" {
		t.Fatalf("TLS client auth %+v", tls)
	}
	if err := w.admin.DeleteTLSClientAuth(ctx, cr.ID); err != nil {
		t.Fatal(err)
	}
	if got := must[*client.TLSClientAuth](t)(w.admin.GetTLSClientAuth(ctx, cr.ID)); got.SubjectDN != "" {
		t.Fatalf("after delete %+v", got)
	}
	_, err = w.other.SetTLSClientAuth(ctx, cr.ID, client.TLSClientAuth{SubjectDN: "CN=x"})
	wantError(t, err, http.StatusNotFound)

	ws := w.e.Admin.WorkspaceID
	contact := must[*client.WorkspaceContact](t)(w.admin.SetWorkspaceContact(ctx, ws, client.WorkspaceContact{
		Email: "ops@example.com", Address: &client.Address{City: "Paris", CountryCode: "FR"}}))
	if contact.Email != "ops@example.com" || contact.Address == nil || contact.Address.City != "Paris" {
		t.Fatalf("contact %+v", contact)
	}
	if got := must[*client.WorkspaceContact](t)(w.admin.GetWorkspaceContact(ctx, ws)); got.Email != "ops@example.com" {
		t.Fatalf("contact read back %+v", got)
	}
	_, err = w.other.GetWorkspaceContact(ctx, ws)
	if err == nil {
		t.Fatal("another workspace read the contact")
	}

	lang := "fr"
	if _, err := w.admin.UpdateUser(ctx, w.e.Admin.UserID, client.UserUpdate{Language: &lang}); err != nil {
		t.Fatalf("update user: %v", err)
	}

	managers, err := client.Collect(w.admin.ListServiceManagers(ctx, nil))
	if err != nil || len(managers) == 0 {
		t.Fatalf("service managers %d, %v", len(managers), err)
	}
	if got := must[*client.ServiceManager](t)(w.admin.GetServiceManager(ctx, managers[0].ID)); got.Name != managers[0].Name {
		t.Fatalf("service manager %+v", got)
	}
	regions, err := client.Collect(w.admin.ListRegionServiceManagers(ctx, nil))
	if err != nil || len(regions) == 0 || len(regions[0].ServiceManagers) == 0 {
		t.Fatalf("regions %+v, %v", regions, err)
	}
	if got := must[*client.RegionServiceManagers](t)(w.admin.GetRegionServiceManagers(ctx, regions[0].ID)); got.RegionName != regions[0].RegionName {
		t.Fatalf("region %+v", got)
	}
}
