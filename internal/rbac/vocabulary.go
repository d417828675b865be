package rbac

import (
	"slices"
	"strings"
)

// typeIndex maps a bare resource type name ("todo") to the keys ("<provider>/todo") of the
// resource types of that name that some permission applies to, sorted.
type typeIndex map[string][]string

// typesLocked returns the index of v's permissions' resource types, building it on first use.
// The read lock is held; writers drop the index under the write lock (engine_feed.go).
func (v *view) typesLocked() typeIndex {
	if idx := v.types.Load(); idx != nil {
		return *idx
	}
	idx := typeIndex{}
	for _, p := range v.perms {
		for _, key := range p.types {
			_, name, ok := strings.Cut(key, "/")
			if ok && !slices.Contains(idx[name], key) {
				idx[name] = append(idx[name], key)
			}
		}
	}
	for _, keys := range idx {
		slices.Sort(keys)
	}
	v.types.Store(&idx)
	return idx
}

// ResourceTypes returns the keys ("<provider>/<type>") of the resource types named typ that a
// permission applies to, of provider only when provider is not "". typ may itself be a key,
// which is then returned if a permission applies to it (and it is of provider). A type no
// permission applies to is not returned: nothing can be allowed on it.
func (e *Engine) ResourceTypes(provider, typ string) []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	idx := e.typesLocked()
	if ns, name, ok := strings.Cut(typ, "/"); ok {
		if (provider == "" || ns == provider) && slices.Contains(idx[name], typ) {
			return []string{typ}
		}
		return nil
	}
	keys := idx[typ]
	if provider == "" {
		return keys
	}
	for _, k := range keys {
		if strings.HasPrefix(k, provider) && len(k) > len(provider) && k[len(provider)] == '/' {
			return []string{k}
		}
	}
	return nil
}

// PermissionFor names the permission an action stands for on resources of type typ of
// provider: action itself when it is a registered permission's full name, else
// "<provider>.<typ>.<action>" when that is registered. ok is false when neither is. A full
// name costs no allocation.
func (e *Engine) PermissionFor(provider, typ, action string) (permission string, ok bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if _, ok := e.perms[action]; ok {
		return action, true
	}
	if provider == "" || typ == "" {
		return "", false
	}
	full := provider + "." + typ + "." + action
	if _, ok := e.perms[full]; ok {
		return full, true
	}
	return "", false
}

// KnownScope reports whether an OAuth scope item (package scope) names something registered:
// a permission by its full name, or for a wildcard "<provider>.<resource-type>.*", at least
// one permission of that provider and resource type. Either costs a map read (the wildcard
// prefixes are indexed on first use). item's syntax has been checked.
func (e *Engine) KnownScope(item string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	prefix, wild := strings.CutSuffix(item, "*")
	if !wild {
		_, ok := e.perms[item]
		return ok
	}
	idx := e.wild.Load()
	if idx == nil {
		m := make(map[string]struct{}, len(e.perms))
		for name := range e.perms {
			if i := strings.LastIndexByte(name, '.'); i > 0 {
				m[name[:i+1]] = struct{}{}
			}
		}
		idx = &m
		e.wild.Store(idx)
	}
	_, ok := (*idx)[prefix]
	return ok
}
