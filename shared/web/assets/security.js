// security.js: the security events (data-page "admin-security",
// super_admin and security_analyst): newest first, filters by type, realm,
// account and time in the address (a plain GET form), "show older" by the
// API's cursor.
import { startConsole, el, when, pager } from './console.js';
import { translate } from './i18n.js';

// audit.Types (shared/web's tests keep the two the same).
const types = ['login_succeeded', 'login_failed', 'login_locked', 'logout', 'session_expired', 'session_revoked', 'password_reset_requested', 'password_reset_completed', 'code_failed', 'password_changed', 'account_registered', 'contact_verified', 'account_status_changed', 'admin_created', 'admin_updated', 'csrf_failed', 'rate_limited', 'access_denied', 'mfa_enrolled', 'mfa_removed', 'mfa_succeeded', 'mfa_failed', 'recovery_code_used', 'mfa_cleared'];

const list = document.querySelector('[data-events]');
const more = document.querySelector('[data-action="more"]');
const empty = document.querySelector('[data-empty]');
const filters = document.querySelector('form[data-form="event-filter"]');
const query = new URLSearchParams(location.search);

function eventRow(e) {
  const li = el('li', null, null, 'row');
  li.dataset.eventId = e.id;
  li.dataset.type = e.type;
  const title = el('p', null, null, 'row__title');
  title.append(el('span', 'event.' + e.type));
  if (e.realm) title.append(' · ', el('span', 'realm.' + e.realm));
  const meta = el('p', null, null, 'row__meta');
  meta.append(when(e.time));
  if (e.ip) meta.append(' · ', el('span', 'admin-security.ip', { ip: e.ip }));
  li.append(title, meta);
  const facts = document.createElement('dl');
  facts.className = 'facts';
  const fact = (key, value) => {
    const dt = el('dt', key);
    const dd = document.createElement('dd');
    dd.append(value);
    facts.append(dt, dd);
  };
  if (e.account_id) {
    let value = e.account_id;
    if (e.realm === 'resident') {
      value = document.createElement('a');
      value.href = '/admin/residents/' + encodeURIComponent(e.account_id);
      value.textContent = e.account_id;
    }
    fact('admin-security.account', value);
  }
  if (e.identifier) fact('admin-security.identifier', e.identifier);
  for (const [k, v] of Object.entries(e.details || {})) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    facts.append(dt, dd);
  }
  if (facts.children.length) li.append(facts);
  return li;
}

const load = pager({
  list, more, empty, form: filters, path: '/v1/admin/security-events', items: 'events', row: eventRow,
  filters: () => {
    const q = new URLSearchParams();
    for (const name of ['type', 'realm', 'account']) if (query.get(name)) q.set(name, query.get(name));
    const since = query.get('since');
    if (since && !isNaN(new Date(since))) q.set('since', new Date(since).toISOString().replace(/\.\d+Z$/, 'Z'));
    return q;
  },
});

if (await startConsole('security_events:read')) {
  const select = filters.elements.type;
  for (const type of types) {
    const o = new Option('', type);
    o.dataset.i18n = 'event.' + type;
    select.append(o);
  }
  translate(select);
  for (const name of ['type', 'realm', 'account', 'since']) filters.elements[name].value = query.get(name) || '';
  more.addEventListener('click', async () => {
    const first = list.children.length;
    await load();
    list.children[first]?.querySelector('a, [tabindex]')?.focus();
  });
  await load();
}
