// Package audit owns keyhold's audit log above storage: who made a write (the Actor a
// request's context carries into the write's transaction, see storage.AuditActor), how a
// change becomes a record's target (kind, id, GRN, description), authentication failures and
// lockouts recorded off the hot path (Recorder), the filter language of the audit-log API,
// the chain verifier behind `keyhold audit verify`, and the JSON-lines stream for a SIEM.
//
// Records form one hash chain per workspace (storage.AuditHash); the platform chain ("")
// holds what no workspace owns. A chain's order is its head row's lock, so chains never
// wait on each other or on the change log's lock.
package audit
