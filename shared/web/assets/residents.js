// residents.js: the resident queue (data-page "admin-residents"): waiting
// registrations first, filters by status, barangay and search in the
// address (a plain GET form, so Back and a bookmark keep them), "show
// more" by the API's cursor, and the status changes of status-change.js.
import { call } from './api.js';
import { startConsole, el, when, can, homeOf, pager } from './console.js';
import { actionButtons } from './status-change.js';

const list = document.querySelector('[data-residents]');
const more = document.querySelector('[data-action="more"]');
const empty = document.querySelector('[data-empty]');
const filters = document.querySelector('form[data-form="resident-filter"]');
const query = new URLSearchParams(location.search);

function statusTag(status) {
  return el('strong', 'console.status.' + status, null, 'tag tag--' + status);
}

/** One resident of the queue: li[data-resident-id][data-status]. */
function residentRow(r) {
  const li = el('li', null, null, 'row');
  li.dataset.residentId = r.id;
  const title = el('p', null, null, 'row__title');
  const link = document.createElement('a');
  link.href = '/admin/residents/' + encodeURIComponent(r.id);
  link.textContent = `${r.first_name} ${r.last_name}`;
  const tag = document.createElement('span');
  title.append(link, ' ', tag);
  const meta = el('p', null, null, 'row__meta');
  const registered = el('span', 'console.registered');
  meta.append(`${r.email} · ${r.phone} · ${r.barangay} · `, registered, ' ', when(r.created_at));
  const actions = el('div', null, null, 'actions');
  const show = (acct) => {
    li.dataset.status = acct.status;
    tag.replaceChildren(statusTag(acct.status));
    actionButtons(actions, acct, show);
  };
  li.append(title, meta, actions);
  show(r);
  return li;
}

const load = pager({
  list, more, empty, form: filters, path: '/v1/admin/residents', items: 'residents', row: residentRow,
  filters: () => {
    const q = new URLSearchParams();
    for (const name of ['status', 'barangay', 'q']) if (query.get(name)) q.set(name, query.get(name));
    return q;
  },
});

async function barangays(mine) {
  const select = filters.elements.barangay;
  let names = mine;
  if (!names.length) {
    try {
      names = (await call('GET', '/v1/barangays')).barangays;
    } catch {
      names = [];
    }
  }
  for (const b of names) select.append(new Option(b, b));
  select.value = query.get('barangay') || '';
}

const data = await startConsole();
if (data && !can('residents:read')) {
  location.replace(homeOf());
} else if (data) {
  for (const name of ['status', 'q']) filters.elements[name].value = query.get(name) || '';
  barangays(data.account.role === 'operations_manager' ? data.account.barangays : []);
  more.addEventListener('click', async () => {
    const first = list.children.length;
    await load();
    list.children[first]?.querySelector('a')?.focus();
  });
  await load();
}
