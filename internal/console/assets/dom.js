// dom.js builds elements from data without ever parsing HTML: every text the API returns
// becomes a text node, so a name like "<img onerror=…>" is shown, never run.

/** h(tag, props, ...children): props "class", "on<event>", booleans, other attributes. */
export function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, kids);
  return el;
}

function append(el, kids) {
  for (const k of kids) {
    if (k === undefined || k === null || k === false) continue;
    if (Array.isArray(k)) append(el, k);
    else el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
}

let uid = 0;
/** field(label, input): a label bound to its control by id, for accessible names. */
export function field(label, input, hint) {
  if (!input.id) input.id = 'f' + (++uid);
  const parts = [h('label', { for: input.id }, label), input];
  if (hint) {
    const hid = input.id + '-hint';
    input.setAttribute('aria-describedby', hid);
    parts.push(h('div', { id: hid, class: 'muted' }, hint));
  }
  return h('div', {}, parts);
}

/** errorBox shows an API error with its message, status, error code and debug id. */
export function errorBox(err) {
  const box = h('div', { class: 'error', role: 'alert' },
    h('strong', {}, err.status ? `${err.status} ` : '', err.code || 'Error'), ': ', err.message || String(err));
  for (const d of err.details || []) {
    for (const i of d.issues || []) box.append(h('div', {}, `${i.subject || i.source}: ${i.description}`));
  }
  if (err.debugId) box.append(h('span', { class: 'debug' }, 'debug id: ', h('code', {}, err.debugId)));
  return box;
}

/** confirmAction asks in a modal dialog (Escape and Cancel answer no); resolves to a boolean. */
export function confirmAction(text) {
  const dlg = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  if (pending) pending(false);
  return new Promise((resolve) => {
    pending = resolve;
    dlg.returnValue = '';
    dlg.showModal();
    document.getElementById('confirm-cancel').focus();
  });
}

let pending = null;
// The close event is queued: one from an earlier question may arrive after the next one was
// asked, while the dialog is open again; it is ignored then.
document.getElementById('confirm').addEventListener('close', (e) => {
  const dlg = e.target;
  if (dlg.open || !pending) return;
  const r = pending;
  pending = null;
  r(dlg.returnValue === 'ok');
});

/** busy runs an action for a button: disables it meanwhile and shows errors in out. */
export async function run(out, fn) {
  out.replaceChildren();
  try {
    return await fn();
  } catch (err) {
    out.replaceChildren(errorBox(err));
    return undefined;
  }
}

export function fmtTime(s) {
  if (!s) return '';
  const d = new Date(s);
  return isNaN(d) ? s : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** table(columns, items): columns are {label, value(item) → node or text}. */
export function table(columns, items, caption) {
  return h('div', { class: 'scroll' }, h('table', {},
    caption ? h('caption', { class: 'muted' }, caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c.label)))),
    h('tbody', {}, items.length === 0
      ? h('tr', {}, h('td', { colspan: columns.length, class: 'muted' }, 'Nothing here.'))
      : items.map((it) => h('tr', {}, columns.map((c) => h('td', { 'data-label': c.label }, c.value(it))))))));
}
