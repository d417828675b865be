// list.js is the paged, filtered list every screen uses. The filter is the API's own filter
// expression (each list names its properties), sent as is: the API validates it and answers a
// bad one with a 400 naming the position, shown like any error.
import { h, table, errorBox } from './dom.js';

/**
 * listView({label, columns, load, pageSize, filterHint, filterPlaceholder, empty}):
 * load({limit, offset, filter}) → {items, total?}. When total is undefined the whole list
 * came back and is paged here.
 */
export function listView(opts) {
  const pageSize = opts.pageSize || 20;
  let offset = 0;
  const out = h('div', { 'aria-live': 'polite' });
  const status = h('span', { class: 'muted' });
  const prev = h('button', { type: 'button', onclick: () => { offset = Math.max(0, offset - pageSize); refresh(); } }, 'Previous');
  const next = h('button', { type: 'button', onclick: () => { offset += pageSize; refresh(); } }, 'Next');
  const filter = h('input', { type: 'search', class: 'wide', placeholder: opts.filterPlaceholder || '', 'aria-label': `Filter ${opts.label}` });
  const form = h('form', { class: 'row', role: 'search', onsubmit: (e) => { e.preventDefault(); offset = 0; refresh(); } },
    filter, h('button', { type: 'submit' }, 'Filter'));
  if (opts.noFilter) form.hidden = true;

  let seq = 0; // only the latest refresh renders: answers may arrive out of order
  async function refresh() {
    const mine = ++seq;
    out.setAttribute('aria-busy', 'true');
    try {
      const r = await opts.load({ limit: pageSize, offset, filter: filter.value.trim() });
      if (mine !== seq) return;
      let items = r.items || [];
      let total = r.total;
      if (total === undefined) {
        total = items.length;
        items = items.slice(offset, offset + pageSize);
      }
      out.replaceChildren(table(opts.columns, items, opts.label));
      status.textContent = total === 0 ? '' : `${offset + 1}–${offset + items.length} of ${total}`;
      prev.disabled = offset === 0;
      next.disabled = offset + items.length >= total;
    } catch (err) {
      if (mine !== seq) return;
      out.replaceChildren(errorBox(err));
    }
    out.removeAttribute('aria-busy');
  }
  const view = h('section', { 'aria-label': opts.label },
    opts.filterHint ? h('div', { class: 'muted' }, opts.filterHint) : null, form, out,
    h('div', { class: 'pager' }, prev, next, status));
  view.refresh = refresh;
  refresh();
  return view;
}
