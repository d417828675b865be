// grn.js: the GRN picker of role assignments and the access checker. It builds GRNs the way
// keyhold reads them (docs/api.md): the whole workspace, a tenant group, a scope group, or a
// resource of a registered type; the text stays editable for any other GRN.
import * as api from './api.js';
import { h, field } from './dom.js';
import { iam, allPages } from './roles.js';

/** escapeID is keyhold's reversible id encoding in resource GRNs: ASCII letters, digits, '-'
 * and '.' stay, every other byte becomes '_' and two upper-case hex digits; the ids '.' and
 * '..' have their dots escaped. */
export function escapeID(id) {
  if (id === '.' || id === '..') return id.replace(/\./g, '_2E');
  let out = '';
  for (const b of new TextEncoder().encode(id)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9.-]/.test(c) ? c : '_' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export function resourceGRN(typeKey, id, region) {
  const [provider, type] = typeKey.split('/');
  return `${api.workspaceGRN()}/regions/${region || 'default'}/providers/${provider}/${type}/${id === '*' ? '*' : escapeID(id)}`;
}

/** picker(label) → {el, input}: a GRN text input with helpers that fill it in. */
export function picker(label, name) {
  const input = h('input', { name: name || 'grn', class: 'wide', spellcheck: 'false', required: true });
  const kind = h('select', { 'aria-label': `${label}: kind` },
    h('option', { value: 'resource' }, 'A resource'), h('option', { value: 'workspace' }, 'The whole workspace'),
    h('option', { value: 'scope-group' }, 'A scope group'),
    api.current().wsType === 'MSP' ? h('option', { value: 'tenant-group' }, 'A tenant group') : null);
  const choice = h('select', { 'aria-label': `${label}: which` });
  const rid = h('input', { 'aria-label': `${label}: resource id`, placeholder: "resource id, or * for all", spellcheck: 'false' });
  const helper = h('div', { class: 'row' });
  const cache = {};
  async function options(k) {
    if (cache[k]) return cache[k];
    let items = [];
    try {
      if (k === 'resource') {
        const providers = await allPages(`${iam}/resource-providers`);
        const types = await Promise.all(providers.map((p) => allPages(`${iam}/resource-providers/${encodeURIComponent(p.id)}/resource-types`)));
        items = types.flat().map((t) => ({ value: t.key, label: `${t.key}${t.displayName ? ' (' + t.displayName + ')' : ''}` }));
      } else if (k === 'scope-group') {
        const r = await api.call('GET', `${iam}/scope-groups`);
        items = (r.items || []).map((g) => ({ value: g.grn, label: g.name }));
      } else if (k === 'tenant-group') {
        const r = await api.call('GET', '/workspaces/v1beta1/groups');
        items = (r.items || []).map((g) => ({ value: g.grn, label: g.name }));
      }
    } catch (err) {
      items = [{ value: '', label: `cannot list: ${err.message}` }];
    }
    cache[k] = items;
    return items;
  }
  function fill() {
    const k = kind.value;
    if (k === 'workspace') input.value = api.workspaceGRN();
    else if (k === 'resource') { if (choice.value && rid.value.trim()) input.value = resourceGRN(choice.value, rid.value.trim()); }
    else if (choice.value) input.value = choice.value;
  }
  async function redraw() {
    const k = kind.value;
    if (k === 'workspace') { helper.replaceChildren(kind); fill(); return; }
    const items = await options(k);
    choice.replaceChildren(...items.map((o) => h('option', { value: o.value }, o.label)));
    helper.replaceChildren(...(k === 'resource' ? [kind, choice, rid] : [kind, choice]));
    fill();
  }
  kind.addEventListener('change', redraw);
  choice.addEventListener('change', fill);
  rid.addEventListener('input', fill);
  redraw();
  const el = h('div', {}, field(label + ' (GRN)', input), helper);
  return { el, input, setResource: (typeKey, id) => { kind.value = 'resource'; redraw().then(() => { choice.value = typeKey; rid.value = id; fill(); }); } };
}
