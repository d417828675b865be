// assignments.js: role assignments (list with filter, create on GRN scopes with an optional
// condition, change of scopes, delete).
import * as api from './api.js';
import { h, field, run, confirmAction, fmtTime } from './dom.js';
import { listView } from './list.js';
import { iam, allPages } from './roles.js';
import { picker } from './grn.js';

export function render() {
  const out = h('div');
  let list;
  list = listView({
    label: 'Role assignments', filterPlaceholder: "subject in ('user:<id>')",
    filterHint: 'Filter with in on subject, role (a role GRN) and scope (a GRN), joined by and.',
    columns: [
      { label: 'Subject', value: (a) => h('code', {}, a.subject) },
      { label: 'Role', value: (a) => h('a', { href: `#/roles/${a.roleMetadata && a.roleMetadata.id}` }, h('code', {}, a.role)) },
      { label: 'Scope', value: (a) => h('div', {}, (a.scope || []).map((s) => h('div', { class: 'mono' }, s))) },
      { label: 'Source', value: (a) => a.source },
      { label: 'Condition', value: (a) => (a.condition ? h('code', { class: 'condition' }, a.condition) : '') },
      { label: 'Created', value: (a) => fmtTime(a.createdAt) },
      { label: 'Actions', value: (a) => h('div', { class: 'row' },
        a.source === 'LOCAL' && api.can('glp.authorization.edit')
          ? h('a', { href: `#/assignments/${encodeURIComponent(a.id)}`, 'aria-label': `Edit scopes of assignment ${a.id}` }, 'Edit scopes') : '',
        a.source === 'LOCAL' && api.can('glp.authorization.delete')
        ? h('button', { type: 'button', class: 'danger', 'aria-label': `Delete assignment ${a.id}`, onclick: async () => {
          if (!await confirmAction(`Remove the role ${a.role} from ${a.subject}?`)) return;
          if (await run(out, async () => { await api.call('DELETE', `${iam}/role-assignments/${a.id}`); return true; })) list.refresh();
        } }, 'Delete') : '') },
    ],
    load: ({ limit, offset, filter }) => api.call('GET', `${iam}/role-assignments` + api.qs({ limit, offset, filter })),
  });
  return h('div', {}, h('h1', {}, 'Role assignments'),
    api.can('glp.authorization.edit') ? h('div', { class: 'row' }, h('a', { href: '#/assignments/new', id: 'new-assignment' }, 'Assign a role')) : null,
    out, list);
}

/** subjectPicker: a type and an id, with the workspace's users and groups to choose from. */
export function subjectPicker(types) {
  const type = h('select', { name: 'subjectType', 'aria-label': 'Subject type' }, types.map(([v, l]) => h('option', { value: v }, l)));
  const id = h('input', { name: 'subjectId', class: 'wide', required: true, spellcheck: 'false', list: 'subject-ids', 'aria-label': 'Subject id' });
  const ids = h('datalist', { id: 'subject-ids' });
  async function load() {
    try {
      let items = [];
      if (type.value === 'user') items = (await api.call('GET', '/identity/v1/users?limit=600')).items.map((u) => [u.id, u.username]);
      else if (type.value === 'user-group') items = (await allPages('/identity/v1/user-groups')).map((g) => [g.id, g.name]);
      else if (type.value === 'api-client') items = (await api.call('GET', '/workspaces/v1/credentials')).items.map((c) => [c.id, c.credentialName]);
      ids.replaceChildren(...items.map(([v, l]) => h('option', { value: v }, l)));
    } catch { ids.replaceChildren(); }
  }
  type.addEventListener('change', load);
  load();
  return { el: h('div', {}, h('label', { for: id.id || (id.id = 'subject-id') }, 'Subject'), h('div', { class: 'row' }, type, id, ids)), type, id };
}

export async function create() {
  const out = h('div');
  const subject = subjectPicker([['user', 'User'], ['user-group', 'User group'], ['api-client', 'API client']]);
  const roles = await run(out, () => allPages(`${iam}/roles`)) || [];
  const role = h('select', { name: 'role', required: true }, roles.map((r) => h('option', { value: r.grn }, `${r.name} (${r.kind.toLowerCase()})`)));
  const scope = picker('Scope', 'scope');
  const scopes = [];
  const chosen = h('ul', { 'aria-label': 'Chosen scopes', id: 'chosen-scopes' });
  const addScope = h('button', { type: 'button', onclick: () => {
    const g = scope.input.value.trim();
    if (g && !scopes.includes(g)) { scopes.push(g); drawScopes(); }
  } }, 'Add another scope');
  function drawScopes() {
    chosen.replaceChildren(...scopes.map((g) => h('li', {}, h('code', {}, g), ' ',
      h('button', { type: 'button', 'aria-label': `Remove scope ${g}`, onclick: () => { scopes.splice(scopes.indexOf(g), 1); drawScopes(); } }, 'Remove'))));
  }
  const condition = h('textarea', { name: 'condition', rows: 2, class: 'wide mono', spellcheck: 'false', autocomplete: 'off',
    placeholder: 'resource.properties.ownerID == subject.attributes.email' });
  const form = h('form', { class: 'card', id: 'assignment-form', onsubmit: async (e) => {
    e.preventDefault();
    const all = [...scopes];
    const g = scope.input.value.trim();
    if (g && !all.includes(g)) all.push(g);
    const body = { subject: `${subject.type.value}:${subject.id.value.trim()}`, role: role.value, scope: all };
    if (condition.value.trim()) body.condition = condition.value.trim();
    const r = await run(out, () => api.call('POST', `${iam}/role-assignments`, body));
    if (r) out.replaceChildren(h('div', { class: 'notice', role: 'status', id: 'assignment-saved' }, 'Assigned. Assignment id: ', h('code', {}, r.id)));
  } },
  subject.el, field('Role', role), scope.el, h('div', { class: 'row' }, addScope), chosen,
  field('Condition (optional)', condition, 'A CEL expression: the role is granted in AuthZEN decisions only where it holds; it grants nothing on keyhold\'s own API. Errors name the position.'),
  h('p', { class: 'muted' }, 'You can assign a role only on scopes where you hold all its permissions; the API names what is missing.'),
  h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Assign'), h('a', { href: '#/assignments' }, 'All assignments')));
  return h('div', {}, h('h1', {}, 'Assign a role'), out, form);
}

/**
 * edit changes an assignment's scopes (PUT, made conditional on the generation read, so that
 * a change made meanwhile is a 412 rather than overwritten). Its subject, role and condition
 * are shown and sent unchanged: keyhold refuses a PUT that would drop the condition.
 */
export async function edit({ id }) {
  const out = h('div');
  const a = await run(out, () => api.call('GET', `${iam}/role-assignments/${encodeURIComponent(id)}`));
  if (!a) return h('div', {}, h('h1', {}, 'Edit an assignment'), out);
  const scopes = [...(a.scope || [])];
  const chosen = h('ul', { 'aria-label': 'Scopes', id: 'assignment-scopes' });
  function draw() {
    chosen.replaceChildren(...scopes.map((g) => h('li', {}, h('code', {}, g), ' ',
      h('button', { type: 'button', 'aria-label': `Remove scope ${g}`, onclick: () => { scopes.splice(scopes.indexOf(g), 1); draw(); } }, 'Remove'))));
  }
  draw();
  const scope = picker('Scope', 'scope');
  scope.input.required = false;
  const add = h('button', { type: 'button', id: 'add-scope', onclick: () => {
    const g = scope.input.value.trim();
    if (g && !scopes.includes(g)) { scopes.push(g); draw(); }
  } }, 'Add the scope');
  const form = h('form', { class: 'card', id: 'assignment-edit-form', onsubmit: async (e) => {
    e.preventDefault();
    const body = { id: a.id, subject: a.subject, role: a.role, scope: scopes };
    if (a.condition) body.condition = a.condition;
    const r = await run(out, () => api.call('PUT', `${iam}/role-assignments/${encodeURIComponent(a.id)}`, body, { 'If-Match': `"${a.generation}"` }));
    if (r) {
      a.generation = r.generation;
      out.replaceChildren(h('div', { class: 'notice', role: 'status', id: 'assignment-updated' }, `Saved: ${r.scope.length} scope${r.scope.length === 1 ? '' : 's'}.`));
    }
  } },
  h('dl', {}, h('dt', {}, 'Subject'), h('dd', {}, h('code', {}, a.subject)), h('dt', {}, 'Role'), h('dd', {}, h('code', {}, a.role)),
    a.condition ? [h('dt', {}, 'Condition'), h('dd', {}, h('code', {}, a.condition))] : null),
  chosen, scope.el, h('div', { class: 'row' }, add),
  h('p', { class: 'muted' }, 'Every scope needs all the role\'s permissions on it, held by you; the API names what is missing.'),
  h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Save'), h('a', { href: '#/assignments' }, 'All assignments')));
  return h('div', {}, h('h1', {}, 'Edit an assignment'), out, form);
}
