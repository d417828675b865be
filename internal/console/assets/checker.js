// checker.js: the access checker. It asks keyhold's AuthZEN PDP, as any service would,
// with the Keyhold-Explain switch: the decision, what allowed it (assignment, role, scope) or
// why it was denied, and the subject's effective permissions on the resource.
import * as api from './api.js';
import { h, field, run, table } from './dom.js';
import { subjectPicker } from './assignments.js';
import { picker } from './grn.js';
import { allPermissions } from './roles.js';

function reasonView(reason) {
  if (!reason) return h('span', { class: 'muted' }, 'no explanation');
  const rows = [];
  const add = (k, v, href) => { if (v) rows.push(h('dt', {}, k), h('dd', { class: 'mono' }, href ? h('a', { href }, v) : v)); };
  add('Denial', reason.code);
  add('Principal', reason.principal);
  add('Via (member of)', reason.via);
  add('Assignment', reason.assignmentId);
  add('Role', reason.roleId, reason.roleId ? `#/roles/${encodeURIComponent(reason.roleId)}` : null);
  add('Scope', reason.scope);
  add('Scope group', reason.scopeGroup);
  add('Source', reason.source);
  return h('dl', { class: 'kv' }, rows);
}

export async function render() {
  const out = h('div');
  const result = h('div', { id: 'decision', 'aria-live': 'polite' });
  const effective = h('div', { id: 'effective' });
  const subject = subjectPicker([['user', 'User'], ['user-group', 'User group'], ['api-client', 'API client']]);
  const action = h('input', { name: 'action', class: 'wide', required: true, list: 'action-names', spellcheck: 'false' });
  const names = h('datalist', { id: 'action-names' });
  allPermissions().then((ps) => names.replaceChildren(...ps.map((p) => h('option', { value: p.name })))).catch(() => {});
  const resource = picker('Resource', 'resource');
  const subj = () => ({ type: subject.type.value, id: subject.id.value.trim() });
  const form = h('form', { class: 'card', id: 'checker-form', onsubmit: async (e) => {
    e.preventDefault();
    result.replaceChildren();
    const body = { subject: subj(), action: { name: action.value.trim() }, resource: { type: 'grn', id: resource.input.value.trim() } };
    const r = await run(out, () => api.call('POST', '/access/v1/evaluation', body, { 'Keyhold-Explain': 'true' }));
    if (!r) return;
    const ctx = r.context || {};
    result.replaceChildren(h('div', { class: 'card' },
      h('p', {}, 'Decision: ', r.decision ? h('span', { class: 'allow', id: 'decision-value' }, 'ALLOWED') : h('span', { class: 'deny', id: 'decision-value' }, 'DENIED')),
      reasonView(ctx.reason),
      ctx.deprecation ? h('p', { class: 'muted' }, `The permission ${ctx.deprecation.permission} is deprecated.`) : null));
  } },
  subject.el, field('Action (permission)', action), names, resource.el,
  h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Check'),
    h('button', { type: 'button', id: 'effective-button', onclick: async () => {
      const rs = await run(out, () => api.actions(subj(), resource.input.value.trim(), true));
      if (!rs) return;
      effective.replaceChildren(h('h2', {}, 'Effective permissions on this resource'), table([
        { label: 'Permission', value: (p) => h('code', {}, p.name) },
        { label: 'Allowed by', value: (p) => reasonView(p.properties && p.properties.reason) },
      ], rs));
    } }, 'Effective permissions')));
  return h('div', {}, h('h1', {}, 'Access checker'),
    h('p', { class: 'muted' }, 'Asks keyhold\'s AuthZEN endpoint (/access/v1/evaluation, with Keyhold-Explain) exactly as a service would.'),
    out, form, result, effective);
}
