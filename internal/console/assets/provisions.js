// provisions.js: the workspace's service-manager provisions (list with filter, provision a
// service manager in a region of the service catalogue, delete). keyhold records provisions;
// credentials and tokens may name one (docs/api.md, "Service-manager provisions").
import * as api from './api.js';
import { h, field, run, confirmAction, fmtTime } from './dom.js';
import { listView } from './list.js';

const base = '/service-catalog/v1/service-manager-provisions';

export async function render() {
  const out = h('div');
  const catalogue = await run(out, () => api.call('GET', '/service-catalog/v1/per-region-service-managers'));
  const regions = (catalogue && catalogue.items) || [];
  const names = new Map(regions.flatMap((r) => (r.serviceManagers || []).map((m) => [m.id, m.name])));
  const managerId = (p) => p.serviceManager && p.serviceManager.id;
  // One choice per manager and region it is available in, as the catalogue lists them.
  const choice = h('select', { name: 'provision', required: true },
    regions.flatMap((r) => (r.serviceManagers || []).map((m) =>
      h('option', { value: `${m.id} ${r.id}` }, `${m.name} in ${r.regionName || r.id}`))));
  let list;
  const form = h('form', { class: 'row', id: 'provision-form', onsubmit: async (e) => {
    e.preventDefault();
    const [serviceManagerId, region] = choice.value.split(' ');
    const p = await run(out, () => api.call('POST', base, { serviceManagerId, region }));
    if (p) {
      out.replaceChildren(h('div', { class: 'notice', role: 'status', id: 'provision-saved' }, 'Provisioned. Provision id: ', h('code', {}, p.id)));
      list.refresh();
    }
  } }, field('Service manager and region', choice), h('button', { type: 'submit', class: 'primary' }, 'Provision'));
  list = listView({
    label: 'Provisions', filterPlaceholder: "region eq 'us-west'",
    filterHint: 'Filter on id, serviceManagerId, region, provisionStatus and createdAt, joined by and.',
    columns: [
      { label: 'Service manager', value: (p) => names.get(managerId(p)) || h('code', {}, managerId(p)) },
      { label: 'Region', value: (p) => p.region },
      { label: 'Status', value: (p) => p.provisionStatus },
      { label: 'Id', value: (p) => h('code', {}, p.id) },
      { label: 'Created', value: (p) => fmtTime(p.createdAt) },
      { label: 'Actions', value: (p) => (api.can('glp.service-catalog.delete')
        ? h('button', { type: 'button', class: 'danger', 'aria-label': `Delete provision ${p.id}`, onclick: async () => {
          if (!await confirmAction(`Delete the provision of ${names.get(managerId(p)) || 'this service manager'} in ${p.region}? Tokens that name it stop working.`)) return;
          if (await run(out, async () => { await api.call('DELETE', `${base}/${encodeURIComponent(p.id)}`); return true; })) list.refresh();
        } }, 'Delete') : '') },
    ],
    load: ({ limit, offset, filter }) => api.call('GET', base + api.qs({ limit, offset, filter })),
  });
  return h('div', {}, h('h1', {}, 'Service-manager provisions'),
    api.can('glp.service-catalog.edit') && regions.length ? form : null, out, list);
}
