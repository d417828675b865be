// Package httpapi owns keyhold's HTTP surface: routing, the middleware every request passes
// (request id, structured access log, metrics, panic recovery), bearer authentication and the
// authorization guard of each route, strict bounded JSON decoding, the GreenLake error body,
// and the handlers of the JSON APIs. The OAuth endpoints' wire code lives in package token and
// is mounted here.
//
// Handlers parse, validate, call the domain package, and encode; nothing else. Every error goes
// through writeError, which maps apperr kinds to statuses, gives each error a debugId, and logs
// internal causes under that debugId without ever showing them to the client.
package httpapi
