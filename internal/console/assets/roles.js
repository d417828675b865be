// roles.js: predefined and custom roles with their permissions; custom roles are created and
// edited by picking permissions.
import * as api from './api.js';
import { h, field, run, confirmAction } from './dom.js';
import { listView } from './list.js';

export const iam = '/authorization/v2alpha2';

/** allPages fetches every page of a {items, total} list (limit 200). */
export async function allPages(path) {
  const items = [];
  for (let offset = 0; offset < 100000; offset += 200) {
    const sep = path.includes('?') ? '&' : '?';
    const r = await api.call('GET', `${path}${sep}limit=200&offset=${offset}`);
    items.push(...(r.items || []));
    if (!r.items || r.items.length < 200 || items.length >= (r.total ?? Infinity)) break;
  }
  return items;
}

/** allPermissions lists every provider's permissions. */
export async function allPermissions() {
  const providers = await allPages(`${iam}/resource-providers`);
  const lists = await Promise.all(providers.map((p) => allPages(`${iam}/resource-providers/${encodeURIComponent(p.id)}/permissions`)));
  return lists.flat().sort((a, b) => a.name.localeCompare(b.name));
}

export function render() {
  const out = h('div');
  let list;
  list = listView({
    label: 'Roles', filterPlaceholder: "kind eq 'CUSTOM'",
    filterHint: 'Filter with eq or in on kind (CUSTOM, PREDEFINED), name and slug, joined by and.',
    columns: [
      { label: 'Name', value: (r) => h('a', { href: `#/roles/${r.id}` }, r.name) },
      { label: 'Kind', value: (r) => r.kind },
      { label: 'Permissions', value: (r) => String((r.permissions || []).length) },
      { label: 'GRN', value: (r) => h('code', {}, r.grn) },
      { label: 'Actions', value: (r) => (r.kind === 'CUSTOM' && api.can('glp.authorization.delete')
        ? h('button', { type: 'button', class: 'danger', 'aria-label': `Delete role ${r.name}`, onclick: async () => {
          if (!await confirmAction(`Delete the role "${r.name}"?`)) return;
          if (await run(out, async () => { await api.call('DELETE', `${iam}/roles/${r.id}`); return true; })) list.refresh();
        } }, 'Delete') : '') },
    ],
    load: ({ limit, offset, filter }) => api.call('GET', `${iam}/roles` + api.qs({ limit, offset, filter })),
  });
  return h('div', {}, h('h1', {}, 'Roles'),
    api.can('glp.authorization.edit') ? h('div', { class: 'row' }, h('a', { href: '#/roles/new', id: 'new-role' }, 'Create custom role')) : null,
    out, list);
}

function saved(r) {
  return h('div', { class: 'notice', role: 'status', id: 'role-saved' }, `Saved "${r.name}" with ${r.permissions.length} permissions. GRN: `, h('code', {}, r.grn));
}

/** edit shows a role; a custom one (or a new one) is edited by picking permissions. */
export async function edit({ id }) {
  const out = h('div');
  let role = { name: '', description: '', permissions: [], kind: 'CUSTOM' };
  if (id) {
    role = await run(out, () => api.call('GET', `${iam}/roles/${encodeURIComponent(id)}`));
    if (!role) return h('div', {}, h('h1', {}, 'Role'), out);
  }
  if (role.kind !== 'CUSTOM') {
    return h('div', {}, h('h1', {}, 'Role: ', role.name), h('p', {}, role.description || ''),
      h('dl', { class: 'kv' }, h('dt', {}, 'Kind'), h('dd', {}, role.kind), h('dt', {}, 'Slug'), h('dd', { class: 'mono' }, role.slug || ''),
        h('dt', {}, 'GRN'), h('dd', { class: 'mono' }, role.grn)),
      h('h2', {}, 'Permissions'), h('ul', { class: 'perms' }, role.permissions.map((p) => h('li', { class: 'mono' }, p))),
      h('p', {}, h('a', { href: '#/roles' }, 'All roles')));
  }
  const perms = await run(out, () => allPermissions());
  const chosen = new Set(role.permissions);
  const name = h('input', { required: true, maxlength: 100, name: 'roleName', class: 'wide', value: role.name });
  const desc = h('input', { name: 'roleDescription', class: 'wide', value: role.description || '' });
  const narrow = h('input', { type: 'search', 'aria-label': 'Narrow the permissions', placeholder: 'narrow: e.g. todo.' });
  const boxes = h('div', { class: 'perms', role: 'group', 'aria-label': 'Permissions' });
  const count = h('span', { class: 'muted', 'aria-live': 'polite' });
  const usable = (perms || []).filter((p) => p.customRoleUse === 'ALLOW' || chosen.has(p.name));
  function draw() {
    const q = narrow.value.trim().toLowerCase();
    boxes.replaceChildren(...usable.filter((p) => !q || p.name.toLowerCase().includes(q) || (p.description || '').toLowerCase().includes(q)).map((p) => {
      const cb = h('input', { type: 'checkbox', value: p.name, checked: chosen.has(p.name), 'data-perm': p.name,
        onchange: () => { if (cb.checked) chosen.add(p.name); else chosen.delete(p.name); count.textContent = `${chosen.size} chosen`; } });
      return h('label', { title: p.description || '' }, cb, ' ', h('span', { class: 'mono' }, p.name),
        p.releaseStage === 'DEPRECATED' ? h('span', { class: 'muted' }, ' (deprecated)') : null);
    }));
    count.textContent = `${chosen.size} chosen`;
  }
  narrow.addEventListener('input', draw);
  draw();
  const form = h('form', { class: 'card', id: 'role-form', onsubmit: async (e) => {
    e.preventDefault();
    const body = { name: name.value.trim(), description: desc.value, permissions: [...chosen].sort() };
    const r = await run(out, () => (id ? api.call('PUT', `${iam}/roles/${role.id}`, body) : api.call('POST', `${iam}/roles`, body)));
    if (r) {
      if (!id) { location.hash = `#/roles/${r.id}?saved`; return; }
      out.replaceChildren(saved(r));
    }
  } },
  field('Name', name), field('Description', desc),
  h('h2', {}, 'Permissions'), h('div', { class: 'row' }, narrow, count),
  h('p', { class: 'muted' }, 'You can add only permissions you hold on the whole workspace (or, as a workspace administrator, any service permission); the API says which one you lack.'),
  boxes,
  h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, id ? 'Save role' : 'Create role'), h('a', { href: '#/roles' }, 'All roles')));
  if (id && location.hash.endsWith('?saved')) out.replaceChildren(saved(role));
  return h('div', {}, h('h1', {}, id ? `Custom role: ${role.name}` : 'Create a custom role'),
    id ? h('p', { class: 'mono' }, role.grn) : null, out, form);
}
