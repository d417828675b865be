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
// kin-openapi (v0.152) loads and validates OpenAPI 3.1 documents; for 3.1 it checks values
// with a JSON Schema 2020-12 validator that it compiles again for every value, which costs
// milliseconds per exchange. The document therefore keeps to the keywords kin-openapi's own
// (3.0) validator also honours: type (type arrays with "null" included), enum, required,
// properties, items, additionalProperties, allOf/anyOf, format, $ref; const is used and read
// as a one-value enum. No unevaluatedProperties, $dynamicRef, if/then/else or prefixItems.
// The tests check the document as 3.1 (apidoc_test.go) and check exchanges with the 3.0
// validator on a prepared copy (package apidoctest), about 0.1 ms each.
package apidoc
