package client_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/keyhold/keyhold/client"
)

func TestTenantsTenantGroupsAndExchange(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	m := w.e.CreateWorkspace(t, "msp", "MSP", "msp-admin@example.test")
	msp := newClient(t, w.e, m.WorkspaceID, m.ClientID, m.ClientSecret)
	var tenants []string
	for i := range 3 {
		ref := must[*client.TenantRef](t)(msp.CreateTenant(ctx, client.TenantInput{WorkspaceName: fmt.Sprintf("t%d", i),
			Address: []byte(`{"city":"Oslo","countryCode":"NO"}`)}))
		tenants = append(tenants, ref.ID)
	}
	list := collect(t, msp.ListTenants(ctx, &client.ListOptions{PageSize: 2}))
	if len(list) != 3 || list[0].WorkspaceType != "MSP_TENANT" {
		t.Fatalf("tenants %+v", list)
	}
	must[*client.TenantRef](t)(msp.UpdateTenant(ctx, tenants[0], client.TenantInput{WorkspaceName: "t0b", Description: "d"}))
	ws := must[*client.Workspace](t)(msp.GetWorkspace(ctx, tenants[0]))
	if ws.WorkspaceName != "t0b" || ws.WorkspaceType != "MSP_TENANT" {
		t.Fatalf("tenant %+v", ws)
	}
	_, err := msp.CreateTenant(ctx, client.TenantInput{WorkspaceName: ""})
	wantField(t, err, "workspaceName")
	// A standard workspace has no tenants (403); another MSP's tenant is not found.
	_, err = client.Collect(w.admin.ListTenants(ctx, nil))
	wantError(t, err, http.StatusForbidden)
	_, err = w.admin.GetWorkspace(ctx, tenants[0])
	wantError(t, err, http.StatusNotFound)

	// Tenant groups and their members.
	g := must[*client.TenantGroup](t)(msp.CreateTenantGroup(ctx, client.TenantGroupInput{Name: "eu"}))
	g = must[*client.TenantGroup](t)(msp.UpdateTenantGroup(ctx, g.ID, client.TenantGroupInput{Name: "europe"}))
	if g.Name != "europe" || g.GroupType != "TenantGroup" {
		t.Fatalf("group %+v", g)
	}
	for _, id := range tenants {
		must[*client.GroupWorkspace](t)(msp.AddGroupWorkspace(ctx, g.ID, id))
	}
	members := collect(t, msp.ListGroupWorkspaces(ctx, g.ID, &client.ListOptions{PageSize: 2}))
	if len(members) != 3 {
		t.Fatalf("members %+v", members)
	}
	gw := must[*client.GroupWorkspace](t)(msp.GetGroupWorkspace(ctx, g.ID, members[0].ID))
	if gw.Workspace.ID == "" {
		t.Fatalf("membership %+v", gw)
	}
	groups := collect(t, msp.ListTenantGroups(ctx, nil))
	if len(groups) != 1 || groups[0].TotalWorkspaces == nil || *groups[0].TotalWorkspaces != 3 {
		t.Fatalf("groups %+v", groups)
	}
	_, err = msp.AddGroupWorkspace(ctx, g.ID, w.otherWS)
	wantField(t, err, "workspaceId")
	_, err = w.other.GetTenantGroup(ctx, g.ID)
	if err == nil {
		t.Fatal("another workspace read the tenant group")
	}
	if err := msp.RemoveGroupWorkspace(ctx, g.ID, members[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := msp.DeleteTenantGroup(ctx, g.ID); err != nil {
		t.Fatal(err)
	}

	// Token exchange: the MSP administrator's whole-workspace assignment reaches every tenant.
	tok := must[*oauthToken](t)(exchanged(msp, ctx, tenants[1]))
	in := must[*client.Introspection](t)(msp.Introspect(ctx, tok.AccessToken))
	if in.Active {
		t.Fatal("the MSP's issuer reports a tenant token active")
	}
	tc, err := msp.TenantClient(tenants[1])
	if err != nil {
		t.Fatal(err)
	}
	tw := must[*client.Workspace](t)(tc.GetWorkspace(ctx, tenants[1]))
	if tw.ID != tenants[1] {
		t.Fatalf("tenant client read %+v", tw)
	}
	// A standard workspace's token cannot be exchanged into the MSP's tenant.
	_, err = w.admin.ExchangeToken(ctx, tenants[1])
	if ke := wantError(t, err, http.StatusBadRequest); ke.ErrorCode != "invalid_request" {
		t.Fatalf("exchange error %+v", ke)
	}
	if err := msp.DeleteTenant(ctx, tenants[2]); err != nil {
		t.Fatal(err)
	}
	_, err = msp.GetWorkspace(ctx, tenants[2])
	wantError(t, err, http.StatusNotFound)
}

type oauthToken struct{ AccessToken string }

func exchanged(c *client.Client, ctx context.Context, tenant string) (*oauthToken, error) {
	t, err := c.ExchangeToken(ctx, tenant)
	if err != nil {
		return nil, err
	}
	return &oauthToken{t.AccessToken}, nil
}

func TestIntrospectAndRevoke(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	tok := must[string](t)(tokenString(w.admin, ctx))
	in := must[*client.Introspection](t)(w.admin.Introspect(ctx, tok))
	if !in.Active || in.ClientID != w.e.Admin.ClientID || len(in.Audience) != 1 || in.WorkspaceID == "" {
		t.Fatalf("introspection %+v", in)
	}
	// Another workspace's issuer knows nothing of it.
	if in := must[*client.Introspection](t)(w.other.Introspect(ctx, tok)); in.Active {
		t.Fatal("another workspace's issuer reports the token active")
	}
	// Another client may not revoke it.
	cr := must[*client.Credential](t)(w.admin.CreateCredential(ctx, client.CredentialInput{Name: "second"}))
	c2 := newClient(t, w.e, w.e.Admin.WorkspaceID, cr.ClientID, cr.ClientSecret)
	if ke := wantError(t, c2.Revoke(ctx, tok), http.StatusBadRequest); ke.ErrorCode != "unauthorized_client" {
		t.Fatalf("revoke by another client: %+v", ke)
	}
	if err := w.admin.Revoke(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if in := must[*client.Introspection](t)(w.admin.Introspect(ctx, tok)); in.Active {
		t.Fatal("a revoked token is active")
	}
	// Revoking garbage is accepted without effect (RFC 7009).
	if err := w.admin.Revoke(ctx, "not-a-token"); err != nil {
		t.Fatal(err)
	}
}
