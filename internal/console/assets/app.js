// app.js: sign-in, navigation and the hash router. Each screen is a module exporting
// render(params) → element; a screen offers only what can() says the principal may do.
import * as api from './api.js';
import { h, field, errorBox, run } from './dom.js';
import * as credentials from './credentials.js';
import * as workspace from './workspace.js';
import * as identity from './identity.js';
import * as roles from './roles.js';
import * as assignments from './assignments.js';
import * as provisions from './provisions.js';
import * as checker from './checker.js';
import * as scopegroups from './scopegroups.js';
import * as providers from './providers.js';
import * as audit from './audit.js';

// routes: [hash path pattern, screen function, nav label, permission to show it in the nav].
const routes = [
  ['workspace', workspace.render, 'Workspace', 'glp.workspace.view'],
  ['tenants', workspace.tenants, 'Tenants', 'glp.msp-tenant.view', (s) => s.wsType === 'MSP'],
  ['tenant-groups', workspace.tenantGroups, 'Tenant groups', 'glp.msp-tenant.view', (s) => s.wsType === 'MSP'],
  ['credentials', credentials.render, 'API credentials', 'glp.workspace.view'],
  ['credentials/new', credentials.create],
  ['users', identity.users, 'Users', 'glp.identity.view'],
  ['users/new', identity.newUser],
  ['groups', identity.groups, 'User groups', 'glp.identity.view'],
  ['groups/:id', identity.group],
  ['roles', roles.render, 'Roles', 'glp.authorization.view'],
  ['roles/new', roles.edit],
  ['roles/:id', roles.edit],
  ['assignments', assignments.render, 'Role assignments', 'glp.authorization.view'],
  ['assignments/new', assignments.create],
  ['assignments/:id', assignments.edit],
  ['checker', checker.render, 'Access checker', 'glp.authorization.view'],
  ['scope-groups', scopegroups.render, 'Scope groups', 'glp.authorization.view'],
  ['scope-groups/:id', scopegroups.detail],
  ['providers', providers.render, 'Resource providers', 'glp.authorization.view'],
  ['providers/:id', providers.detail],
  ['provisions', provisions.render, 'Provisions', 'glp.service-catalog.view'],
  ['audit', audit.render, 'Audit log', 'glp.audit-log.view'],
];

const main = () => document.getElementById('main');

function match(path) {
  for (const [pattern, fn] of routes) {
    const a = pattern.split('/'), b = path.split('/');
    if (a.length !== b.length) continue;
    const params = {};
    if (a.every((seg, i) => (seg.startsWith(':') ? ((params[seg.slice(1)] = decodeURIComponent(b[i])), true) : seg === b[i]))) {
      return { fn, params, top: a[0] };
    }
  }
  return null;
}

function currentPath() { return location.hash.replace(/^#\/?/, '').split('?')[0]; }

async function route() {
  const s = api.current();
  if (!s) { renderSignIn(); return; }
  if (!s.ready) return;
  const path = currentPath() || 'workspace';
  const m = match(path);
  renderNav(m ? m.top : '');
  const el = m ? await m.fn(m.params) : h('p', {}, 'No such screen.');
  // The session may have ended (a 401) or changed, or another route started, meanwhile.
  if (api.current() !== s || currentPath() !== (path === 'workspace' && !currentPath() ? '' : path)) return;
  main().replaceChildren(el);
  main().focus();
}

function renderNav(top) {
  const s = api.current();
  const nav = document.getElementById('nav');
  const items = routes.filter((r) => r[2] && api.can(r[3]) && (!r[4] || r[4](s)));
  nav.replaceChildren(h('ul', {}, items.map(([p, , label]) =>
    h('li', {}, h('a', { href: '#/' + p, 'aria-current': p === top ? 'page' : null }, label)))));
  nav.hidden = false;
}

let lastReason = '';

function renderSignIn() {
  document.getElementById('nav').hidden = true;
  document.getElementById('nav').replaceChildren();
  document.getElementById('signout').hidden = true;
  document.getElementById('who').textContent = '';
  const out = h('div');
  const ws = h('input', { name: 'workspace', autocomplete: 'off', required: true, class: 'wide', spellcheck: 'false' });
  const id = h('input', { name: 'client_id', autocomplete: 'username', required: true, class: 'wide', spellcheck: 'false' });
  const secret = h('input', { name: 'client_secret', type: 'password', autocomplete: 'current-password', required: true, class: 'wide' });
  const tok = h('textarea', { name: 'token', rows: 4, class: 'wide', spellcheck: 'false', autocomplete: 'off' });
  const viaSecret = h('form', { class: 'card', id: 'signin-secret', onsubmit: async (e) => {
    e.preventDefault();
    await run(out, () => api.signInWithSecret(ws.value, id.value, secret.value));
  } },
  h('h2', {}, 'With an API client credential'),
  field('Workspace id', ws), field('Client id', id), field('Client secret', secret),
  h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Sign in')));
  const viaToken = h('form', { class: 'card', id: 'signin-token', onsubmit: async (e) => {
    e.preventDefault();
    await run(out, async () => api.signInWithToken(tok.value));
  } },
  h('h2', {}, 'With an access token'), field('Access token', tok, 'Kept in this tab\'s memory only.'),
  h('div', { class: 'row' }, h('button', { type: 'submit' }, 'Use token')));
  main().replaceChildren(h('div', {}, h('h1', {}, 'Sign in to keyhold'),
    lastReason ? h('div', { class: 'notice', role: 'status', id: 'signout-reason' }, lastReason) : null,
    out, viaSecret, viaToken,
    h('p', { class: 'muted' }, 'The console keeps your token in memory only: reloading or closing the tab signs you out.')));
  ws.focus();
}

async function afterSignIn() {
  const s = api.current();
  const out = h('div');
  main().replaceChildren(h('p', { 'aria-busy': 'true' }, 'Loading your permissions…'), out);
  try {
    await api.loadPermissions();
    if (api.current() !== s) return;
    try {
      const w = await api.call('GET', '/workspaces/v1/workspaces/' + s.workspace);
      s.wsType = w.workspaceType;
      s.wsName = w.workspaceName;
    } catch (err) {
      if (err.status === 401) return;
    }
  } catch (err) {
    if (api.current() === s) main().replaceChildren(errorBox(err));
    return;
  }
  if (api.current() !== s) return;
  s.ready = true;
  renderWho();
  route();
}

function renderWho() {
  const s = api.current();
  const who = document.getElementById('who');
  const parts = [h('span', {}, s.claims.sub || ''), ' in ', h('span', { class: 'mono' }, s.wsName || s.workspace)];
  if (s.home) {
    parts.push(' (tenant, through the MSP) ',
      h('button', { type: 'button', onclick: () => { api.switchHome(); location.hash = '#/tenants'; } }, 'Back to MSP'));
  }
  if (s.perms === null) parts.push(h('span', { class: 'muted' }, ' · permissions unreadable: every action is offered, the API decides'));
  who.replaceChildren(...parts);
  document.getElementById('signout').hidden = false;
}

api.onSession((s, reason) => {
  if (reason === 'signed-in') {
    lastReason = '';
    afterSignIn();
  } else if (!s) {
    lastReason = reason;
    renderSignIn();
  }
});

window.addEventListener('hashchange', route);
document.getElementById('signout').addEventListener('click', () => api.signOut('Signed out.'));
route();
