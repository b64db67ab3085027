package devidp

// Fixed identifiers of the local directory, so `portal dev` and tests can map them to teams.
const (
	// TenantID is the local directory's tenant id (Entra ID's tid).
	TenantID = "7d1c3a4e-0b5f-4e8a-9c2d-5f6a7b8c9d01"
	// OtherTenantID is a second directory that the portal does not allow, for tests.
	OtherTenantID = "0e9d8c7b-6a5f-4e3d-8c1b-a09f8e7d6c52"
	// GroupIntegration and GroupFinance are the group ids of the two sample teams.
	GroupIntegration = "3c1b9a2e-4d5f-4a6b-8c7d-0e1f2a3b4c5d"
	GroupFinance     = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
	// GroupUnrelated is a group that maps to no team.
	GroupUnrelated = "11111111-2222-4333-8444-555555555555"
)

// Persona is a person one can sign in as.
type Persona struct {
	// ID is the short handle chosen on the sign-in page ("admin").
	ID          string
	Name        string
	Username    string
	ObjectID    string // Entra ID's oid: stable per person
	Tenant      string // "" means TenantID
	Roles       []string
	Groups      []string
	Description string // what this persona shows off, for the picker and `portal dev`'s banner
	// GroupsOverage replaces the groups claim by Entra ID's overage pointer, as for someone in
	// more than 200 groups.
	GroupsOverage bool
}

// DefaultPersonas are the people of the local directory: one for each situation the portal's
// authorization distinguishes.
func DefaultPersonas() []Persona {
	return []Persona{
		{ID: "admin", Name: "Ada Admin", Username: "ada.admin@contoso.example", ObjectID: "a0000000-0000-4000-8000-000000000001",
			Roles: []string{"Admin"}, Groups: []string{GroupIntegration}, Description: "Admin: every endpoint and the audit log"},
		{ID: "integration-registrar", Name: "Rita Registrar", Username: "rita.registrar@contoso.example", ObjectID: "a0000000-0000-4000-8000-000000000002",
			Roles: []string{"Registrar"}, Groups: []string{GroupIntegration, GroupUnrelated}, Description: "Registrar in team Integration"},
		{ID: "integration-viewer", Name: "Victor Viewer", Username: "victor.viewer@contoso.example", ObjectID: "a0000000-0000-4000-8000-000000000003",
			Roles: []string{"Viewer"}, Groups: []string{GroupIntegration}, Description: "Viewer in team Integration"},
		{ID: "finance-registrar", Name: "Fiona Finance", Username: "fiona.finance@contoso.example", ObjectID: "a0000000-0000-4000-8000-000000000004",
			Roles: []string{"Registrar"}, Groups: []string{GroupFinance}, Description: "Registrar in team Finance"},
		{ID: "no-role", Name: "Nico Norole", Username: "nico.norole@contoso.example", ObjectID: "a0000000-0000-4000-8000-000000000005",
			Groups: []string{GroupIntegration}, Description: "No portal role: sees whom to ask"},
		{ID: "groups-overage", Name: "Olga Overage", Username: "olga.overage@contoso.example", ObjectID: "a0000000-0000-4000-8000-000000000006",
			Roles: []string{"Registrar"}, GroupsOverage: true, Description: "In more than 200 groups (groups overage)"},
	}
}
