package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"net/mail"
	"strings"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// Address is a workspace's postal address, as GreenLake's workspace document types it.
type Address struct {
	StreetAddress           string `json:"streetAddress,omitempty"`
	StreetAddressComplement string `json:"streetAddressComplement,omitempty"`
	City                    string `json:"city,omitempty"`
	StateOrRegion           string `json:"stateOrRegion,omitempty"`
	Zip                     string `json:"zip,omitempty"`
	CountryCode             string `json:"countryCode,omitempty"`
}

// Contact is a workspace's contact details.
type Contact struct {
	Email       string
	PhoneNumber string
	Address     *Address // nil: none
}

// Contact reads the contact details of a workspace the caller may see (its own, or one of
// its tenants; anything else is 404, as for the workspace itself).
func (s *Service) Contact(ctx context.Context, c *principal.Caller, rawID string) (*storage.Workspace, Contact, error) {
	w, err := s.Get(ctx, c, rawID)
	if err != nil {
		return nil, Contact{}, err
	}
	d, err := s.Store.GetTenantDetails(ctx, w.ID)
	if err != nil {
		return nil, Contact{}, apperr.Wrap(err, "read contact")
	}
	return w, contactOf(d), nil
}

// contactOf is the stored details as a contact. An address stored by an earlier tenant
// update that does not fit Address (a member of another type) is left out rather than
// served in a shape the document does not allow.
func contactOf(d *storage.TenantDetails) Contact {
	out := Contact{Email: d.Email, PhoneNumber: d.PhoneNumber}
	if d.Address != "" {
		var a Address
		if err := json.Unmarshal([]byte(d.Address), &a); err == nil && a != (Address{}) {
			out.Address = &a
		}
	}
	return out
}

// SetContact replaces the contact details of the caller's own workspace (absent fields are
// cleared); its name, description and inventory ownership are kept. A tenant's details are
// its MSP's to change, through PUT /workspaces/v1/msp-tenants/{id}: 403 here.
func (s *Service) SetContact(ctx context.Context, c *principal.Caller, rawID string, in Contact) (*storage.Workspace, error) {
	w, err := s.Get(ctx, c, rawID)
	if err != nil {
		return nil, err
	}
	if w.ID != c.WorkspaceID {
		return nil, apperr.New(apperr.Forbidden, "a tenant's contact is changed by its MSP with PUT /workspaces/v1/msp-tenants/{id}")
	}
	if err := validContact(&in); err != nil {
		return nil, err
	}
	var out *storage.Workspace
	err = s.Store.WithTx(ctx, func(tx storage.Store) error {
		cur, err := tx.GetWorkspace(ctx, w.ID)
		if err != nil {
			return err
		}
		d, err := tx.GetTenantDetails(ctx, w.ID)
		if err != nil {
			return err
		}
		d.Email, d.PhoneNumber, d.Address = in.Email, in.PhoneNumber, ""
		if in.Address != nil {
			b, _ := json.Marshal(in.Address)
			d.Address = string(b)
		}
		out, err = tx.UpdateWorkspace(ctx, w.ID, cur.Name, *d, s.now())
		return err
	})
	if err != nil {
		return nil, storeError(err, "update contact")
	}
	return out, s.synced(ctx)
}

func storeError(err error, what string) error {
	var ae *apperr.Error
	switch {
	case errors.As(err, &ae):
		return err
	case errors.Is(err, storage.ErrNotFound):
		return errNotFound
	}
	return apperr.Wrap(err, what)
}

// validContact trims and checks each field, naming it.
func validContact(in *Contact) error {
	in.Email, in.PhoneNumber = strings.TrimSpace(in.Email), strings.TrimSpace(in.PhoneNumber)
	if err := validText("email", in.Email, 0, 254); err != nil {
		return err
	}
	if in.Email != "" {
		if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email {
			return apperr.Field("email", "must be a plain email address")
		}
	}
	if err := validText("phoneNumber", in.PhoneNumber, 0, 40); err != nil {
		return err
	}
	if in.Address == nil {
		return nil
	}
	a := in.Address
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"address.streetAddress", &a.StreetAddress, 220}, {"address.streetAddressComplement", &a.StreetAddressComplement, 60},
		{"address.city", &a.City, 40}, {"address.stateOrRegion", &a.StateOrRegion, 220}, {"address.zip", &a.Zip, 10},
		{"address.countryCode", &a.CountryCode, 2}} {
		*f.v = strings.TrimSpace(*f.v)
		if err := validText(f.name, *f.v, 0, f.max); err != nil {
			return err
		}
	}
	if cc := a.CountryCode; cc != "" && (len(cc) != 2 || strings.ToUpper(cc) != cc || strings.IndexFunc(cc, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0) {
		return apperr.Field("address.countryCode", "must be an ISO 3166-1 alpha-2 code such as US")
	}
	if *a == (Address{}) {
		in.Address = nil
	}
	return nil
}
