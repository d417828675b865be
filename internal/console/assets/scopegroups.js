// scopegroups.js: scope groups and their scopes (resource GRNs of the workspace).
import * as api from './api.js';
import { h, field, run, confirmAction, errorBox } from './dom.js';
import { listView } from './list.js';
import { iam } from './roles.js';
import { picker } from './grn.js';

const base = `${iam}/scope-groups`;

export function render() {
  const out = h('div');
  let list;
  const name = h('input', { required: true, maxlength: 150, name: 'scopeGroupName' });
  const desc = h('input', { maxlength: 256, name: 'scopeGroupDescription' });
  const form = h('form', { class: 'card', id: 'scope-group-form', onsubmit: async (e) => {
    e.preventDefault();
    if (await run(out, () => api.call('POST', base, { name: name.value.trim(), description: desc.value }))) { form.reset(); list.refresh(); }
  } }, h('h2', {}, 'New scope group'), field('Name', name), field('Description', desc),
  h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Create scope group')));
  list = listView({
    label: 'Scope groups', filterPlaceholder: "name in ('Lab')",
    filterHint: 'Filter with in on exactly one of name or grn.',
    columns: [
      { label: 'Name', value: (g) => h('a', { href: `#/scope-groups/${g.id}` }, g.name) },
      { label: 'Description', value: (g) => g.description || '' },
      { label: 'GRN', value: (g) => h('code', {}, g.grn) },
      { label: 'Actions', value: (g) => (api.can('glp.authorization.delete') ? h('button', { type: 'button', class: 'danger', 'aria-label': `Delete scope group ${g.name}`, onclick: async () => {
        if (!await confirmAction(`Delete the scope group "${g.name}"?`)) return;
        if (await run(out, async () => { await api.call('DELETE', `${base}/${g.id}`); return true; })) list.refresh();
      } }, 'Delete') : '') },
    ],
    load: ({ limit, offset, filter }) => api.call('GET', base + api.qs({ limit, offset, filter })),
  });
  return h('div', {}, h('h1', {}, 'Scope groups'), api.can('glp.authorization.edit') ? form : null, out, list);
}

/** batchErrors shows the failed items of a batch answer ({errors: [...]}) as errors. */
function batchErrors(out, r) {
  out.replaceChildren(...(r.errors || []).map((e) => errorBox({ status: e.httpStatusCode || e.status, code: e.errorCode, message: e.message, debugId: e.debugId, details: e.errorDetails })));
}

export async function detail({ id }) {
  const out = h('div');
  const g = await run(out, () => api.call('GET', `${base}/${encodeURIComponent(id)}`));
  if (!g) return h('div', {}, h('h1', {}, 'Scope group'), out);
  let scopes;
  const grn = picker('Scope', 'scopeGrn');
  const desc = h('input', { required: true, name: 'scopeDescription', class: 'wide' });
  const add = h('form', { class: 'card', id: 'scope-form', onsubmit: async (e) => {
    e.preventDefault();
    const r = await run(out, () => api.call('POST', `${base}/${g.id}/scopes/batch`, { items: [{ grn: grn.input.value.trim(), description: desc.value }] }));
    if (r) { batchErrors(out, r); if (r.successCount) { desc.value = ''; scopes.refresh(); } }
  } }, h('h2', {}, 'Add a scope'), grn.el, field('Description', desc),
  h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Add scope')));
  scopes = listView({
    label: `Scopes of ${g.name}`, noFilter: true,
    columns: [
      { label: 'GRN', value: (s) => h('code', {}, s.grn) },
      { label: 'Description', value: (s) => s.description },
      { label: 'Type', value: (s) => s.resourceTypeDisplayName || '' },
      { label: 'Actions', value: (s) => (api.can('glp.authorization.edit') ? h('button', { type: 'button', class: 'danger', 'aria-label': `Remove scope ${s.grn}`, onclick: async () => {
        if (!await confirmAction(`Remove ${s.grn} from "${g.name}"?`)) return;
        const r = await run(out, () => api.call('DELETE', `${base}/${g.id}/scopes/bulk`, { items: [{ id: s.id }] }));
        if (r) { batchErrors(out, r); scopes.refresh(); }
      } }, 'Remove') : '') },
    ],
    load: ({ limit, offset }) => api.call('GET', `${base}/${g.id}/scopes` + api.qs({ limit, offset })),
  });
  return h('div', {}, h('h1', {}, 'Scope group: ', g.name), h('p', { class: 'mono' }, g.grn), h('p', {}, g.description || ''),
    api.can('glp.authorization.edit') ? add : null, out, scopes, h('p', {}, h('a', { href: '#/scope-groups' }, 'All scope groups')));
}
