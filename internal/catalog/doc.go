// Package catalog owns the service catalogue: the regions of the platform and the service
// managers available in each, as the operator loads them at start (--service-catalog, a JSON
// or YAML file) or as built into the binary (Default). The catalogue is read-only while a node
// runs: the service-catalog API serves it (service managers, per-region service managers) and
// provisions are checked against it (a service manager it knows, in a region where that
// manager is available).
//
// Load validates a file completely before anything starts: unknown members, duplicate ids,
// ids that are not UUIDs or region codes, names too long or holding control characters,
// and a service manager in a region the file does not define are refused, each error naming
// the member by its path (serviceManagers[2].regions[0]). Every node of a cluster must load
// the same catalogue; nothing about it is stored.
package catalog
