// workspace.js: the workspace, and for an MSP its tenants (switching into one by token
// exchange) and tenant groups.
import * as api from './api.js';
import { h, field, run, confirmAction, fmtTime } from './dom.js';
import { listView } from './list.js';

export async function render() {
  const out = h('div');
  const s = api.current();
  const w = await run(out, () => api.call('GET', '/workspaces/v1/workspaces/' + s.workspace));
  const perms = s.perms === null ? null : [...s.perms].sort();
  return h('div', {}, h('h1', {}, 'Workspace'), out,
    w ? h('dl', { class: 'kv', id: 'workspace-details' },
      h('dt', {}, 'Name'), h('dd', {}, w.workspaceName), h('dt', {}, 'Id'), h('dd', { class: 'mono' }, w.id),
      h('dt', {}, 'Type'), h('dd', {}, w.workspaceType), h('dt', {}, 'GRN'), h('dd', { class: 'mono' }, api.workspaceGRN()),
      h('dt', {}, 'Created'), h('dd', {}, fmtTime(w.createdAt))) : null,
    h('h2', {}, 'You'),
    h('dl', { class: 'kv' }, h('dt', {}, 'Subject'), h('dd', { class: 'mono' }, s.claims.sub),
      h('dt', {}, 'Token expires'), h('dd', {}, fmtTime(new Date(s.claims.exp * 1000).toISOString()))),
    h('h2', {}, 'Your permissions on this workspace'),
    perms === null ? h('p', { class: 'muted' }, 'Not readable with your permissions (', s.permsError ? s.permsError.message : '', ').')
      : h('ul', { id: 'my-permissions', class: 'perms' }, perms.map((p) => h('li', { class: 'mono' }, p))),
    s.platformPerms.size ? h('p', {}, 'You are a platform administrator: you also hold ', String(s.platformPerms.size), ' permissions on grn:glp.') : null);
}

const tenantsBase = '/workspaces/v1/msp-tenants';

export function tenants() {
  const out = h('div');
  let list;
  const name = h('input', { required: true, maxlength: 100, name: 'workspaceName' });
  const form = h('form', { class: 'row', onsubmit: async (e) => {
    e.preventDefault();
    const r = await run(out, () => api.call('POST', tenantsBase, { workspaceName: name.value }));
    if (r) { form.reset(); list.refresh(); }
  } }, field('New tenant name', name), h('button', { type: 'submit', class: 'primary' }, 'Create tenant'));
  list = listView({
    label: 'Tenants', filterPlaceholder: "workspaceName eq 'Acme'",
    columns: [
      { label: 'Name', value: (t) => t.workspaceName },
      { label: 'Id', value: (t) => h('code', {}, t.id) },
      { label: 'Created', value: (t) => fmtTime(t.createdAt) },
      { label: 'Actions', value: (t) => h('div', { class: 'row' },
        h('button', { type: 'button', 'aria-label': `Switch into ${t.workspaceName}`, onclick: async () => {
          const ok = await run(out, async () => { await api.switchToTenant(t.id); return true; });
          if (ok) location.hash = '#/workspace';
        } }, 'Switch into'),
        api.can('glp.msp-tenant.delete') ? h('button', { type: 'button', class: 'danger', 'aria-label': `Delete tenant ${t.workspaceName}`, onclick: async () => {
          if (!await confirmAction(`Delete the tenant "${t.workspaceName}" and everything in it?`)) return;
          if (await run(out, async () => { await api.call('DELETE', `${tenantsBase}/${t.id}`); return true; })) list.refresh();
        } }, 'Delete') : null) },
    ],
    load: ({ limit, offset, filter }) => api.call('GET', tenantsBase + api.qs({ limit, offset, filter })),
  });
  return h('div', {}, h('h1', {}, 'Tenants'),
    h('p', { class: 'muted' }, 'Switching into a tenant exchanges your token for one of the tenant (RFC 8693); it works when one of your MSP assignments reaches the tenant.'),
    api.can('glp.msp-tenant.edit') ? form : null, out, list);
}

const groupsBase = '/workspaces/v1beta1/groups';

export function tenantGroups() {
  const out = h('div');
  let list;
  const detail = h('div');
  const name = h('input', { required: true, maxlength: 64, name: 'name' });
  const form = h('form', { class: 'row', onsubmit: async (e) => {
    e.preventDefault();
    const r = await run(out, () => api.call('POST', groupsBase, { name: name.value, description: '' }));
    if (r) { form.reset(); list.refresh(); }
  } }, field('New tenant group', name), h('button', { type: 'submit', class: 'primary' }, 'Create group'));
  async function show(g) {
    const tenant = h('input', { name: 'workspaceId', spellcheck: 'false', required: true });
    const members = listView({
      label: `Tenants of ${g.name}`, noFilter: true,
      columns: [
        { label: 'Tenant', value: (m) => h('code', {}, m.workspaceId || m.id) },
        { label: 'Name', value: (m) => m.workspaceName || '' },
        { label: 'Actions', value: (m) => (api.can('glp.msp-tenant.edit') ? h('button', { type: 'button', class: 'danger', onclick: async () => {
          if (!await confirmAction('Remove this tenant from the group?')) return;
          if (await run(out, async () => { await api.call('DELETE', `${groupsBase}/${g.id}/group-workspaces/${m.id}`); return true; })) members.refresh();
        } }, 'Remove') : '') },
      ],
      load: ({ limit, offset }) => api.call('GET', `${groupsBase}/${g.id}/group-workspaces` + api.qs({ limit, offset })),
    });
    const add = h('form', { class: 'row', onsubmit: async (e) => {
      e.preventDefault();
      if (await run(out, () => api.call('POST', `${groupsBase}/${g.id}/group-workspaces`, { workspaceId: tenant.value.trim() }))) { add.reset(); members.refresh(); }
    } }, field('Add tenant (id)', tenant), h('button', { type: 'submit' }, 'Add'));
    detail.replaceChildren(h('div', {}, h('h2', {}, g.name), h('p', { class: 'mono' }, g.grn), api.can('glp.msp-tenant.edit') ? add : null, members));
  }
  list = listView({
    label: 'Tenant groups', noFilter: true,
    columns: [
      { label: 'Name', value: (g) => h('button', { type: 'button', onclick: () => show(g) }, g.name) },
      { label: 'Tenants', value: (g) => String(g.totalWorkspaces ?? '') },
      { label: 'GRN', value: (g) => h('code', {}, g.grn) },
      { label: 'Actions', value: (g) => (api.can('glp.msp-tenant.delete') ? h('button', { type: 'button', class: 'danger', 'aria-label': `Delete group ${g.name}`, onclick: async () => {
        if (!await confirmAction(`Delete the tenant group "${g.name}"?`)) return;
        if (await run(out, async () => { await api.call('DELETE', `${groupsBase}/${g.id}`); return true; })) list.refresh();
      } }, 'Delete') : '') },
    ],
    load: ({ limit, offset }) => api.call('GET', groupsBase + api.qs({ limit, offset })),
  });
  return h('div', {}, h('h1', {}, 'Tenant groups'), api.can('glp.msp-tenant.edit') ? form : null, out, list, detail);
}
