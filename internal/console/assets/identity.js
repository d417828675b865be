// identity.js: users (add by email, remove) and user groups with their members.
import * as api from './api.js';
import { h, field, run, confirmAction, fmtTime } from './dom.js';
import { listView } from './list.js';

const usersBase = '/identity/v1/users';
const groupsBase = '/identity/v1/user-groups';

export function users() {
  const out = h('div');
  let list;
  const canDelete = api.can('glp.identity.delete');
  list = listView({
    label: 'Users', filterPlaceholder: "username eq 'dana@example.com'",
    filterHint: 'Filter on id, username, userStatus (eq, ne, in), createdAt, updatedAt.',
    columns: [
      { label: 'Email', value: (u) => u.username },
      { label: 'Id', value: (u) => h('code', {}, u.id) },
      { label: 'Status', value: (u) => u.userStatus },
      { label: 'Added', value: (u) => fmtTime(u.createdAt) },
      { label: 'Actions', value: (u) => h('div', { class: 'row' },
        api.can('glp.identity.edit') && api.can('glp.workspace.edit')
          ? h('a', { href: `#/credentials/new?owner=${encodeURIComponent(u.id)}`, 'aria-label': `Create a credential for ${u.username}` }, 'New credential') : null,
        canDelete ? h('button', { type: 'button', class: 'danger', 'aria-label': `Remove ${u.username}`, onclick: async () => {
          if (!await confirmAction(`Remove ${u.username} from the workspace, with its credentials, assignments and group memberships here?`)) return;
          if (await run(out, async () => { await api.call('DELETE', `${usersBase}/${u.id}`); return true; })) list.refresh();
        } }, 'Remove') : null) },
    ],
    load: ({ limit, offset, filter }) => api.call('GET', usersBase + api.qs({ limit, offset, filter })),
  });
  return h('div', {}, h('h1', {}, 'Users'),
    api.can('glp.identity.edit') ? h('div', { class: 'row' }, h('a', { href: '#/users/new', id: 'new-user' }, 'Add user')) : null,
    out, list);
}

export function newUser() {
  const out = h('div');
  const email = h('input', { type: 'email', required: true, name: 'email', class: 'wide', autocomplete: 'off' });
  const form = h('form', { class: 'card', onsubmit: async (e) => {
    e.preventDefault();
    const r = await run(out, () => api.call('POST', usersBase, { email: email.value.trim(), sendWelcomeEmail: false }));
    if (r) {
      form.reset();
      out.replaceChildren(h('div', { class: 'notice', role: 'status' }, 'Added. User id: ', h('code', { id: 'new-user-id' }, r.id), ' ',
        h('a', { href: `#/credentials/new?owner=${encodeURIComponent(r.id)}` }, 'Create a credential for this user')));
    }
  } }, field('Email', email, 'A user the platform does not know yet is created; keyhold sends no email.'),
  h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Add user'), h('a', { href: '#/users' }, 'Back to the list')));
  return h('div', {}, h('h1', {}, 'Add a user to the workspace'), out, form);
}

export function groups() {
  const out = h('div');
  let list;
  const name = h('input', { required: true, maxlength: 100, name: 'groupName' });
  const desc = h('input', { name: 'groupDescription', maxlength: 256 });
  const form = h('form', { class: 'card', onsubmit: async (e) => {
    e.preventDefault();
    if (await run(out, () => api.call('POST', groupsBase, { name: name.value.trim(), description: desc.value }))) { form.reset(); list.refresh(); }
  } }, h('h2', {}, 'New group'), field('Name', name), field('Description', desc), h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Create group')));
  list = listView({
    label: 'User groups', noFilter: true,
    columns: [
      { label: 'Name', value: (g) => h('a', { href: `#/groups/${g.id}` }, g.name) },
      { label: 'Description', value: (g) => g.description || '' },
      { label: 'Principal', value: (g) => h('code', {}, g.principal) },
      { label: 'Actions', value: (g) => (api.can('glp.identity.delete') ? h('button', { type: 'button', class: 'danger', 'aria-label': `Delete group ${g.name}`, onclick: async () => {
        if (!await confirmAction(`Delete the group "${g.name}"?`)) return;
        if (await run(out, async () => { await api.call('DELETE', `${groupsBase}/${g.id}`); return true; })) list.refresh();
      } }, 'Delete') : '') },
    ],
    load: ({ limit, offset }) => api.call('GET', groupsBase + api.qs({ limit, offset })),
  });
  return h('div', {}, h('h1', {}, 'User groups'), api.can('glp.identity.edit') ? form : null, out, list);
}

export async function group({ id }) {
  const out = h('div');
  const g = await run(out, () => api.call('GET', `${groupsBase}/${encodeURIComponent(id)}`));
  if (!g) return h('div', {}, h('h1', {}, 'User group'), out);
  const user = h('input', { name: 'userId', required: true, spellcheck: 'false', class: 'wide' });
  let members;
  const add = h('form', { class: 'row', onsubmit: async (e) => {
    e.preventDefault();
    if (await run(out, () => api.call('POST', `${groupsBase}/${g.id}/members`, { userId: user.value.trim() }))) { add.reset(); members.refresh(); }
  } }, field('Add member (user id)', user), h('button', { type: 'submit' }, 'Add member'));
  members = listView({
    label: `Members of ${g.name}`, noFilter: true,
    columns: [
      { label: 'Email', value: (m) => m.username },
      { label: 'Id', value: (m) => h('code', {}, m.id) },
      { label: 'Added', value: (m) => fmtTime(m.addedAt) },
      { label: 'Actions', value: (m) => (api.can('glp.identity.edit') ? h('button', { type: 'button', class: 'danger', 'aria-label': `Remove ${m.username} from the group`, onclick: async () => {
        if (!await confirmAction(`Remove ${m.username} from "${g.name}"?`)) return;
        if (await run(out, async () => { await api.call('DELETE', `${groupsBase}/${g.id}/members/${m.id}`); return true; })) members.refresh();
      } }, 'Remove') : '') },
    ],
    load: ({ limit, offset }) => api.call('GET', `${groupsBase}/${g.id}/members` + api.qs({ limit, offset })),
  });
  return h('div', {}, h('h1', {}, 'User group: ', g.name), h('p', {}, g.description || ''),
    h('p', {}, 'Assign roles to ', h('code', {}, g.principal), ' on the role assignments screen.'),
    api.can('glp.identity.edit') ? add : null, out, members, h('p', {}, h('a', { href: '#/groups' }, 'All groups')));
}
