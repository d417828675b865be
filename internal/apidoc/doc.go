// Package apidoc holds keyhold's OpenAPI 3.1 document: every path a node serves (the
// GreenLake platform paths, keyhold's own additions, the OAuth endpoints, AuthZEN and the
// operations endpoints), with keyhold's additions marked `x-keyhold-extension: true`.
//
// The document is written and maintained by hand in openapi.yaml, embedded in the binary.
// The JSON form served at /openapi.json is converted from it once, when first asked for;
// /openapi.yaml serves the source bytes as they are. Nothing generates the document from
// code: instead, tests keep it true.
//   - internal/app's route test lists every route the node registers and fails when one is
//     missing from the document, or the document describes one that is not served.
//   - Every request and response the API test suite (internal/app) makes through apptest is
//     validated against the document with kin-openapi; objects are closed for that check
//     (an undocumented field fails) unless the document marks them open with
//     additionalProperties.
//   - Where a vendored GreenLake document describes the same operation, a test compares
//     parameters, request body and response schemas and statuses with it.
//
// kin-openapi (v0.152) loads OpenAPI 3.1 and validates the JSON Schema keywords used here
// (type arrays, const, enum, required, properties, items, additionalProperties, $ref). The
// document keeps to that subset: no unevaluatedProperties, $dynamicRef, or if/then/else.
package apidoc
