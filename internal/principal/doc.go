// Package principal owns the names of the entities that can be authorized (users, user groups
// and API clients: "user:<id>", "user-group:<id>", "api-client:<clientId>") and Caller, the
// authenticated identity behind a request, which every layer above authentication receives.
package principal
