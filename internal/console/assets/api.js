// api.js holds the session and calls keyhold's public API. The access token lives in this
// module's memory only: never in web storage, cookies or the URL, so it is
// gone when the tab closes and no other page of the origin can read it. The session ends when
// the token expires (a timer) or when any call answers 401 (revoked, reset, deleted).

export class ApiError extends Error {
  constructor(status, message, debugId, code, details) {
    super(message);
    this.status = status;
    this.debugId = debugId;
    this.code = code;
    this.details = details;
  }
}

let session = null;
let timer = 0;
const listeners = new Set();

/** onSession(fn) calls fn(session, reason) whenever the session starts or ends. */
export function onSession(fn) { listeners.add(fn); }
export function current() { return session; }

function emit(reason) { for (const fn of listeners) fn(session, reason); }

/** hex spells a workspace id as keyhold's issuer paths do (32 hex digits). */
export function hex(id) { return String(id).trim().toLowerCase().replace(/-/g, ''); }

/** claims reads a JWT's payload (not verified here: the API verifies every call). */
export function claims(token) {
  const parts = token.split('.');
  if (parts.length !== 3) throw new ApiError(0, 'this is not a keyhold access token (a JWT)');
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)));
  } catch {
    throw new ApiError(0, 'the token\'s payload cannot be read');
  }
}

const fetchOpts = { credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer' };

async function tokenRequest(workspaceId, form) {
  const res = await fetch(`/authorization/v2/oauth2/${encodeURIComponent(hex(workspaceId))}/token`, {
    ...fetchOpts, method: 'POST', body: new URLSearchParams(form),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  let data = {};
  try { data = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    throw new ApiError(res.status, data.error_description || data.error || res.statusText, undefined, data.error);
  }
  return data.access_token;
}

/** signInWithSecret gets a token from the workspace's own token endpoint. */
export async function signInWithSecret(workspaceId, clientId, secret) {
  const tok = await tokenRequest(workspaceId, { grant_type: 'client_credentials', client_id: clientId.trim(), client_secret: secret.trim() });
  start(tok, null);
}

/** signInWithToken starts a session with a pasted token; the first call checks it. */
export function signInWithToken(tok) { start(tok.trim(), null); }

/** switchToTenant exchanges the MSP session's token for one of a tenant (RFC 8693). */
export async function switchToTenant(tenantId) {
  const home = session.home || session;
  const tok = await tokenRequest(tenantId, {
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: home.token,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
  });
  start(tok, home);
}

/** switchHome goes back to the MSP's own token. */
export function switchHome() {
  if (session && session.home) start(session.home.token, null);
}

function start(tok, home) {
  const c = claims(tok);
  const ttl = c.exp * 1000 - Date.now();
  if (!c.exp || ttl <= 0) throw new ApiError(0, 'this token has expired');
  clearTimeout(timer);
  session = { token: tok, claims: c, workspace: c.hpe_workspace_id, home, perms: null, platformPerms: new Set() };
  timer = setTimeout(() => signOut('Your session expired: sign in again.'), Math.min(ttl, 2 ** 31 - 1));
  emit('signed-in');
}

/** signOut forgets the token. */
export function signOut(reason) {
  clearTimeout(timer);
  if (!session) return;
  session = null;
  emit(reason || 'Signed out.');
}

/** call sends a JSON request with the session's token; errors become ApiError. */
export async function call(method, path, body, headers) {
  const s = session;
  if (!s) throw new ApiError(401, 'not signed in');
  const h = { Authorization: 'Bearer ' + s.token, Accept: 'application/json', ...(headers || {}) };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const res = await fetch(path, { ...fetchOpts, method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  if (res.status !== 204) {
    try { data = await res.json(); } catch { /* empty */ }
  }
  if (!res.ok) {
    const e = new ApiError(res.status, (data && (data.message || data.error_description)) || res.statusText,
      data && data.debugId, data && data.errorCode, data && data.errorDetails);
    if (res.status === 401 && session === s) signOut(`Signed out: the API refused the token (${e.message}).`);
    throw e;
  }
  return data;
}

/** qs builds a query string from the defined, non-empty values. */
export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? '?' + s : '';
}

/** workspaceGRN is the GRN of the session's whole workspace. */
export function workspaceGRN() { return 'grn:glp/workspaces/' + session.workspace; }

/** actions lists what subject may do on a resource GRN (AuthZEN action search, every page). */
export async function actions(subject, grn, explain) {
  const out = [];
  let token = '';
  for (let i = 0; i < 50; i++) {
    const body = { subject, resource: { type: 'grn', id: grn }, page: { limit: 1000 } };
    if (token) body.page.token = token;
    const r = await call('POST', '/access/v1/search/action', body, explain ? { 'Keyhold-Explain': 'true' } : undefined);
    out.push(...(r.results || []));
    token = r.page && r.page.next_token;
    if (!token) break;
  }
  return out;
}

/** loadPermissions derives what the signed-in principal may do from its effective
 * permissions on its workspace (and on the platform, for platform administrators). When it
 * cannot read them (no glp.authorization.view), perms stays null: every action is offered
 * and the API decides. */
export async function loadPermissions() {
  const s = session;
  const subject = { type: 'token', id: s.token };
  try {
    s.perms = new Set((await actions(subject, workspaceGRN())).map((r) => r.name));
  } catch (err) {
    if (err.status === 401) throw err;
    s.perms = null;
    s.permsError = err;
  }
  try {
    s.platformPerms = new Set((await actions(subject, 'grn:glp')).map((r) => r.name));
  } catch (err) {
    if (err.status === 401) throw err;
    s.platformPerms = new Set();
  }
  emit('permissions');
}

/** can reports whether the principal may use a permission on its workspace (true when
 * unknown: the API is the judge). */
export function can(perm) {
  return !session || session.perms === null || session.perms.has(perm);
}

/** canPlatform: a permission on grn:glp (platform administrators). */
export function canPlatform(perm) { return !!session && session.platformPerms.has(perm); }
