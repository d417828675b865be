package client_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/client"
	"github.com/keyhold/keyhold/internal/catalog"
	"github.com/keyhold/keyhold/internal/ids"
)

func TestProvisions(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	var made []string
	for _, region := range []string{"us-west", "us-east", "eu-central"} {
		// A service manager the built-in service catalogue offers there.
		sm := catalog.Default().ManagersIn(region)[0].ID
		p := must[*client.Provision](t)(w.admin.CreateProvision(ctx, client.ProvisionInput{ServiceManagerID: sm, Region: region}))
		if p.ProvisionStatus != "PROVISIONED" || p.Region != region {
			t.Fatalf("provision %+v", p)
		}
		made = append(made, p.ID)
	}
	list := collect(t, w.admin.ListProvisions(ctx, &client.ListOptions{PageSize: 2}))
	if len(list) != 3 {
		t.Fatalf("%d provisions", len(list))
	}
	p := must[*client.Provision](t)(w.admin.GetProvision(ctx, made[0]))
	// A credential naming the provision.
	cr := must[*client.Credential](t)(w.admin.CreateCredential(ctx, client.CredentialInput{Name: "prov", ProvisionID: p.ID}))
	if cr.AssociatedServiceManagerProvision == nil || !strings.HasSuffix(cr.AssociatedServiceManagerProvision.ResourceURI, p.ID) {
		t.Fatalf("credential %+v", cr)
	}
	_, err := w.admin.CreateProvision(ctx, client.ProvisionInput{ServiceManagerID: "nope", Region: "eu"})
	wantField(t, err, "serviceManagerId")
	_, err = w.admin.CreateProvision(ctx, client.ProvisionInput{ServiceManagerID: ids.New(), Region: "us-west"})
	wantField(t, err, "serviceManagerId")
	_, err = w.admin.CreateProvision(ctx, client.ProvisionInput{ServiceManagerID: catalog.Default().ManagersIn("us-west")[0].ID, Region: "mars-1"})
	wantField(t, err, "region")
	_, err = w.other.GetProvision(ctx, p.ID)
	wantError(t, err, http.StatusNotFound)
	_, err = w.other.CreateCredential(ctx, client.CredentialInput{Name: "x", ProvisionID: p.ID})
	wantField(t, err, "associatedServiceManagerProvision.resourceUri")
	if err := w.admin.DeleteProvision(ctx, made[1]); err != nil {
		t.Fatal(err)
	}
}

func TestAuditLogs(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for _, n := range []string{"a", "b", "c"} {
		must[*client.Credential](t)(w.admin.CreateCredential(ctx, client.CredentialInput{Name: n}))
	}
	logs := collect(t, w.admin.ListAuditLogs(ctx, &client.ListOptions{PageSize: 2, Filter: "category eq 'API Gateway'"}))
	if len(logs) != 3 || logs[0].Category != "API Gateway" || logs[0].CreatedAt.Before(logs[2].CreatedAt) {
		t.Fatalf("audit logs %+v", logs)
	}
	one := must[*client.AuditLog](t)(w.admin.GetAuditLog(ctx, logs[0].ID))
	d := must[*client.AuditLogDetails](t)(w.admin.GetAuditLogDetails(ctx, one.ID))
	if len(d.Body) == 0 || !strings.HasPrefix(d.Header, "API Gateway") {
		t.Fatalf("details %+v", d)
	}
	_, err := w.other.GetAuditLog(ctx, one.ID)
	wantError(t, err, http.StatusNotFound)
	if other := collect(t, w.other.ListAuditLogs(ctx, &client.ListOptions{Filter: "category eq 'API Gateway'"})); len(other) != 0 {
		t.Fatalf("another workspace sees %d records", len(other))
	}
	_, err = client.Collect(w.admin.ListAuditLogs(ctx, &client.ListOptions{Filter: "category eq 'x' or 1"}))
	wantField(t, err, "filter")
}
