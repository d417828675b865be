// audit.js: the audit log (GET /audit-log/v2beta1/logs), newest first, with its filter
// language and each record's details.
import * as api from './api.js';
import { h, run, fmtTime } from './dom.js';
import { listView } from './list.js';

const base = '/audit-log/v2beta1/logs';

export function render() {
  const out = h('div');
  const detail = h('div', { id: 'audit-detail', 'aria-live': 'polite' });
  async function show(item) {
    const d = await run(out, () => api.call('GET', `${base}/${item.id}/details`));
    if (d) detail.replaceChildren(h('div', { class: 'card' }, h('h2', {}, d.header), h('ul', {}, (d.body || []).map((l) => h('li', { class: 'mono' }, l)))));
  }
  const list = listView({
    label: 'Audit log', pageSize: 25, filterPlaceholder: "category eq 'API Gateway' and contains(username, 'dana')",
    filterHint: "Filter on createdAt (lt, ge), category (eq, in), description, ipAddress, username (eq or contains(key, 'v')), joined by and.",
    columns: [
      { label: 'When', value: (r) => fmtTime(r.createdAt) },
      { label: 'Category', value: (r) => r.category },
      { label: 'Description', value: (r) => r.description },
      { label: 'Who', value: (r) => r.username },
      { label: 'Source', value: (r) => r.ipAddress || '' },
      { label: 'Details', value: (r) => h('button', { type: 'button', 'aria-label': `Details of ${r.description} at ${fmtTime(r.createdAt)}`, onclick: () => show(r) }, 'Details') },
    ],
    load: ({ limit, offset, filter }) => api.call('GET', base + api.qs({ limit, offset, filter })),
  });
  return h('div', {}, h('h1', {}, 'Audit log'), out, list, detail);
}
