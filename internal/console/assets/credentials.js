// credentials.js: API client credentials (list with filter, create with the secret shown
// once, reset, delete with confirmation).
import * as api from './api.js';
import { h, field, run, confirmAction, fmtTime } from './dom.js';
import { listView } from './list.js';

const base = '/workspaces/v1/credentials';

/** secretBox shows a new secret once, with a copy button; it is never stored. */
export function secretBox(cred, what) {
  const status = h('span', { role: 'status', class: 'muted' });
  const code = h('div', { class: 'secret', id: 'new-secret', tabindex: '0' }, cred.clientSecret);
  return h('div', { class: 'card', id: 'secret-card' },
    h('h2', {}, `${what}: copy the secret now`),
    h('p', {}, 'keyhold stores only a hash of it: it is shown this once and cannot be read again.'),
    h('dl', { class: 'kv' }, h('dt', {}, 'Workspace id'), h('dd', { class: 'mono' }, api.current().workspace),
      h('dt', {}, 'Client id'), h('dd', { class: 'mono', id: 'new-client-id' }, cred.clientId || cred.id)),
    h('p', {}, 'Client secret'), code,
    h('div', { class: 'row' }, h('button', { type: 'button', id: 'copy-secret', onclick: async () => {
      try {
        await navigator.clipboard.writeText(cred.clientSecret);
        status.textContent = 'Copied.';
      } catch {
        getSelection().selectAllChildren(code);
        status.textContent = 'Copying is not allowed here: the secret is selected, press Ctrl+C.';
      }
    } }, 'Copy secret'), status));
}

export function render() {
  const out = h('div');
  let list;
  const canEdit = api.can('glp.workspace.edit'), canDelete = api.can('glp.workspace.delete');
  const columns = [
    { label: 'Name', value: (c) => c.credentialName },
    { label: 'Client id', value: (c) => h('code', {}, c.clientId) },
    { label: 'Owner', value: (c) => h('code', {}, c.ownerId || '') },
    { label: 'Tenant', value: (c) => (c.associatedTenant ? c.associatedTenant.tenantName || c.associatedTenant.resourceUri : '') },
    { label: 'Generation', value: (c) => String(c.generation) },
    { label: 'Created', value: (c) => fmtTime(c.createdAt) },
    { label: 'Actions', value: (c) => h('div', { class: 'row' },
      canEdit ? h('button', { type: 'button', 'aria-label': `Reset secret of ${c.credentialName}`, onclick: async () => {
        if (!await confirmAction(`Reset the secret of "${c.credentialName}"? The old secret and its tokens stop working at once.`)) return;
        const r = await run(out, () => api.call('POST', `${base}/${c.id}/reset`, {}));
        if (r) { out.replaceChildren(secretBox(r, `Secret of "${c.credentialName}" reset`)); list.refresh(); }
      } }, 'Reset') : null,
      canDelete ? h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${c.credentialName}`, onclick: async () => {
        if (!await confirmAction(`Delete the credential "${c.credentialName}"? Its tokens stop working at once.`)) return;
        const r = await run(out, async () => { await api.call('DELETE', `${base}/${c.id}`); return true; });
        if (r) { out.replaceChildren(h('p', { role: 'status', class: 'notice' }, `Deleted "${c.credentialName}".`)); list.refresh(); }
      } }, 'Delete') : null) },
  ];
  list = listView({
    label: 'API credentials', columns,
    filterPlaceholder: "credentialName eq 'ci' or ownerId eq '<user id>'",
    filterHint: 'Filter on credentialName, ownerId, tenantId, createdAt (eq, ne, in, and, or…). Administrators see other owners\' credentials with ownerId.',
    load: ({ filter }) => api.call('GET', base + api.qs({ filter })),
  });
  return h('div', {}, h('h1', {}, 'API credentials'),
    canEdit ? h('div', { class: 'row' }, h('a', { href: '#/credentials/new', id: 'new-credential' }, 'Create credential')) : null,
    out, list);
}

export function create() {
  const out = h('div');
  const name = h('input', { required: true, maxlength: 100, class: 'wide', name: 'credentialName' });
  const owner = h('input', { class: 'wide', name: 'ownerId', spellcheck: 'false', placeholder: 'yourself when empty' });
  const tenant = h('input', { class: 'wide', name: 'tenantId', spellcheck: 'false' });
  const isMSP = api.current().wsType === 'MSP';
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  if (params.get('owner')) owner.value = params.get('owner');
  const form = h('form', { class: 'card', onsubmit: async (e) => {
    e.preventDefault();
    const body = { credentialName: name.value };
    if (owner.value.trim()) body.ownerId = owner.value.trim();
    if (tenant.value.trim()) body.associatedTenant = { resourceUri: '/workspaces/v1/workspaces/' + tenant.value.trim() };
    const r = await run(out, () => api.call('POST', base, body));
    if (r) { form.reset(); out.replaceChildren(secretBox(r, `Credential "${r.credentialName}" created`)); }
  } },
  field('Name', name),
  api.can('glp.identity.edit') || owner.value ? field('Owner (user id)', owner, 'An identity administrator may create a credential for another member.') : null,
  isMSP ? field('For tenant (workspace id, optional)', tenant) : null,
  h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Create'), h('a', { href: '#/credentials' }, 'Back to the list')));
  return h('div', {}, h('h1', {}, 'Create an API credential'), out, form);
}
