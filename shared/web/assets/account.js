// account.js: "my account" of both realms (data-page "account",
// "admin-account"): who I am, two-step sign-in (factors.js), where I am
// signed in (sign one device out, or all the others), and a password
// change. The session is loaded once and
// then only looked at (api.js).
import { startPage, requireSession, call, bindForm, showNotice, showError, paths, realm, el } from './api.js';
import { translate, when } from './i18n.js';
import { describe } from './device.js';
import { startFactors } from './factors.js';

startPage();

const list = document.querySelector('[data-sessions]');
const others = document.querySelector('[data-action="revoke-others"]');
const passwordForm = document.querySelector('form[data-form="password-change"]');

/** One row of the summary list: a label and a value (text, or nodes). */
function row(labelKey, ...value) {
  const div = document.createElement('div');
  const dd = document.createElement('dd');
  dd.append(...value);
  div.append(el('dt', labelKey), dd);
  return div;
}

function verified(flag, contact) {
  if (flag) return [' ', el('strong', 'account.verified', null, 'tag tag--ok')];
  const link = el('a', 'account.verify');
  link.href = '/verify?identifier=' + encodeURIComponent(contact);
  return [' ', el('strong', 'account.not_verified', null, 'tag tag--todo'), ' ', link];
}

function showAccount(a) {
  const profile = document.querySelector('[data-profile]');
  if (realm === 'resident') {
    profile.append(
      row('account.name', `${a.first_name} ${a.last_name}`),
      row('account.email', a.email, ...verified(a.email_verified, a.email)),
      row('account.phone', a.phone, ...verified(a.phone_verified, a.phone)),
      row('account.barangay', a.barangay),
    );
  } else {
    profile.append(
      row('account.full_name', a.full_name),
      row('account.username', a.username),
      row('account.email', a.email),
      row('account.role', el('span', 'role.' + a.role)),
    );
    if (a.barangays.length) profile.append(row('account.barangays', a.barangays.join(', ')));
  }
  const banner = document.querySelector('[data-status-banner]');
  if (banner) {
    banner.dataset.status = a.status;
    banner.classList.add('banner--' + a.status);
    banner.append(el('p', 'status.' + a.status, null, 'banner__title'), el('p', 'status.' + a.status + '_text'));
  }
  passwordForm.querySelector('[data-username]').value = a.username || a.email;
  const box = document.querySelector('[data-account]');
  translate(box);
  box.hidden = false;
}

/** "Chrome on Android", from a user agent string; never more than that. */
function device(ua) {
  const { browser, os } = describe(ua);
  const p = el('p', null, null, 'device');
  if (browser && os) p.append(el('span', 'device.on', { browser, os }));
  else p.append(el('span', browser || os ? 'device.one' : 'device.unknown', { name: browser || os }));
  return p;
}

function since(key, iso) {
  return [el('span', key), ' ', when(iso)];
}

async function showSessions() {
  const { sessions } = await call('GET', paths.api + '/sessions');
  sessions.sort((a, b) => b.current - a.current || b.last_seen_at.localeCompare(a.last_seen_at));
  list.replaceChildren(...sessions.map((s, i) => {
    const li = document.createElement('li');
    li.dataset.sessionId = s.id;
    if (s.current) li.dataset.current = 'true';
    const name = device(s.user_agent);
    name.id = 'device-' + i;
    if (s.current) name.append(' ', el('strong', 'account.this_device', null, 'tag tag--ok'));
    const meta = el('p', null, null, 'meta');
    meta.append(...since('account.signed_in', s.created_at), ' · ', ...since('account.last_active', s.last_seen_at));
    if (s.ip) meta.append(' · ', el('span', 'account.ip', { ip: s.ip }));
    li.append(name, meta);
    if (!s.current) {
      const b = el('button', 'account.revoke', null, 'button button--secondary');
      b.type = 'button';
      b.dataset.action = 'revoke';
      b.setAttribute('aria-describedby', name.id);
      li.append(b);
    }
    return li;
  }));
  others.hidden = sessions.length < 2;
  translate(list);
}

list.addEventListener('click', async (ev) => {
  const b = ev.target.closest('[data-action="revoke"]');
  if (!b) return;
  b.disabled = true;
  try {
    await call('DELETE', paths.api + '/sessions/' + b.closest('li').dataset.sessionId);
    await showSessions();
    showNotice('device_signed_out');
  } catch (err) {
    b.disabled = false;
    showError(err);
  }
});

others.addEventListener('click', async () => {
  others.disabled = true;
  try {
    const { revoked } = await call('DELETE', paths.api + '/sessions');
    await showSessions();
    showNotice('others_signed_out', { count: revoked });
  } catch (err) {
    showError(err);
  } finally {
    others.disabled = false;
  }
});

bindForm(passwordForm, {
  done: async () => {
    const username = passwordForm.querySelector('[data-username]').value;
    passwordForm.reset();
    passwordForm.querySelector('[data-username]').value = username;
    await showSessions();
    showNotice('password_changed');
  },
});

requireSession().then(({ account }) => {
  showAccount(account);
  return Promise.all([startFactors(account), showSessions()]);
}).catch((err) => {
  if (err.status !== 401) showError(err);
});
