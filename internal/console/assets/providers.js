// providers.js: resource providers, their resource types and permissions. Everyone with
// glp.authorization.view reads them; writes are for platform administrators
// (glp.resource-provider.* on grn:glp).
import * as api from './api.js';
import { h, field, run, confirmAction } from './dom.js';
import { listView } from './list.js';
import { iam } from './roles.js';

const base = `${iam}/resource-providers`;

export function render() {
  const out = h('div');
  let list;
  const id = h('input', { required: true, maxlength: 64, name: 'providerId', spellcheck: 'false' });
  const name = h('input', { required: true, name: 'providerName' });
  const form = h('form', { class: 'card', onsubmit: async (e) => {
    e.preventDefault();
    if (await run(out, () => api.call('POST', base, { id: id.value.trim(), name: name.value.trim() }))) { form.reset(); list.refresh(); }
  } }, h('h2', {}, 'Register a provider'), field('Id (namespace)', id), field('Name', name),
  h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Register')));
  list = listView({
    label: 'Resource providers', noFilter: true,
    columns: [
      { label: 'Id', value: (p) => h('a', { href: `#/providers/${encodeURIComponent(p.id)}` }, p.id) },
      { label: 'Name', value: (p) => p.name },
      { label: 'Description', value: (p) => p.description || '' },
      { label: 'Actions', value: (p) => (api.canPlatform('glp.resource-provider.delete') && p.id !== 'glp'
        ? h('button', { type: 'button', class: 'danger', 'aria-label': `Delete provider ${p.id}`, onclick: async () => {
          if (!await confirmAction(`Delete the provider "${p.id}"? It must declare nothing any more.`)) return;
          if (await run(out, async () => { await api.call('DELETE', `${base}/${encodeURIComponent(p.id)}`); return true; })) list.refresh();
        } }, 'Delete') : '') },
    ],
    load: ({ limit, offset }) => api.call('GET', base + api.qs({ limit, offset })),
  });
  return h('div', {}, h('h1', {}, 'Resource providers'), api.canPlatform('glp.resource-provider.edit') ? form : null, out, list);
}

export function detail({ id }) {
  const out = h('div');
  const p = `${base}/${encodeURIComponent(id)}`;
  const edit = api.canPlatform('glp.resource-provider.edit') && id !== 'glp';
  const del = api.canPlatform('glp.resource-provider.delete') && id !== 'glp';
  let types, perms;
  const delButton = (what, path, list) => (del ? h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${what}`, onclick: async () => {
    if (!await confirmAction(`Delete ${what}?`)) return;
    if (await run(out, async () => { await api.call('DELETE', path); return true; })) list.refresh();
  } }, 'Delete') : '');
  types = listView({
    label: `Resource types of ${id}`, noFilter: true,
    columns: [
      { label: 'Key', value: (t) => h('code', {}, t.key) },
      { label: 'Display name', value: (t) => t.displayName || '' },
      { label: 'Actions', value: (t) => delButton(`type ${t.key}`, `${p}/resource-types/${encodeURIComponent(t.name)}`, types) },
    ],
    load: ({ limit, offset }) => api.call('GET', `${p}/resource-types` + api.qs({ limit, offset })),
  });
  perms = listView({
    label: `Permissions of ${id}`, noFilter: true,
    columns: [
      { label: 'Name', value: (x) => h('code', {}, x.name) },
      { label: 'Stage', value: (x) => x.releaseStage },
      { label: 'Custom roles', value: (x) => x.customRoleUse },
      { label: 'Applies to', value: (x) => (x.applicableResourceTypes || []).join(', ') },
      { label: 'Fixed scope', value: (x) => (x.fixedScope ? 'yes' : 'no') },
      { label: 'Actions', value: (x) => delButton(`permission ${x.name}`, `${p}/permissions/${encodeURIComponent(x.name)}`, perms) },
    ],
    load: ({ limit, offset }) => api.call('GET', `${p}/permissions` + api.qs({ limit, offset })),
  });
  const tname = h('input', { required: true, name: 'typeName', spellcheck: 'false' });
  const tdisp = h('input', { name: 'typeDisplayName' });
  const addType = h('form', { class: 'card', onsubmit: async (e) => {
    e.preventDefault();
    if (await run(out, () => api.call('POST', `${p}/resource-types`, { name: tname.value.trim(), displayName: tdisp.value.trim() }))) { addType.reset(); types.refresh(); }
  } }, h('h2', {}, 'Add a resource type'), field('Name', tname), field('Display name', tdisp), h('button', { type: 'submit' }, 'Add type'));
  const pname = h('input', { required: true, name: 'permName', spellcheck: 'false', placeholder: `${id}.<type>.<action>`, class: 'wide' });
  const papplies = h('input', { required: true, name: 'permTypes', spellcheck: 'false', placeholder: `${id}/<type>, …`, class: 'wide' });
  const pstage = h('select', { name: 'permStage' }, ['STABLE', 'BETA', 'ALPHA', 'DEPRECATED'].map((s) => h('option', { value: s }, s)));
  const puse = h('select', { name: 'permUse' }, ['ALLOW', 'DENY'].map((s) => h('option', { value: s }, s)));
  const pfixed = h('input', { type: 'checkbox', name: 'permFixed' });
  const addPerm = h('form', { class: 'card', onsubmit: async (e) => {
    e.preventDefault();
    const body = { name: pname.value.trim(), releaseStage: pstage.value, customRoleUse: puse.value, fixedScope: pfixed.checked,
      applicableResourceTypes: papplies.value.split(',').map((s) => s.trim()).filter(Boolean) };
    if (await run(out, () => api.call('POST', `${p}/permissions`, body))) { addPerm.reset(); perms.refresh(); }
  } }, h('h2', {}, 'Add a permission'), field('Name', pname), field('Applicable resource types', papplies),
  field('Release stage', pstage), field('Use in custom roles', puse), h('div', { class: 'row' }, pfixed, h('label', { for: pfixed.id || (pfixed.id = 'perm-fixed') }, 'Fixed scope (whole workspace only)')),
  h('button', { type: 'submit' }, 'Add permission'));
  return h('div', {}, h('h1', {}, 'Provider: ', id), out,
    h('h2', {}, 'Resource types'), edit ? addType : null, types,
    h('h2', {}, 'Permissions'), edit ? addPerm : null, perms,
    h('p', {}, h('a', { href: '#/providers' }, 'All providers')));
}
