// Package apperr owns keyhold's one application error type. Domain packages return *Error
// values that carry a Kind (what went wrong, independent of transport), a message that is
// safe to show to the client, the offending fields, and optionally an internal cause that is
// logged but never shown. The HTTP layer maps Kind to a status code and a GreenLake error
// code with a single table (Status, Code); nothing else decides statuses.
package apperr
