// resident.js: one resident (data-page "admin-resident"): details and
// verified flags, the status actions with a reason, how many sessions are
// active and "end all sessions" (confirmed in the page), the status history.
import { call, showNotice } from './api.js';
import { startConsole, el, when, row, can, failed } from './console.js';
import { actionButtons } from './status-change.js';

const id = decodeURIComponent(location.pathname.split('/').pop());
const box = document.querySelector('[data-resident]');
const profile = document.querySelector('[data-profile]');
const actions = document.querySelector('[data-actions]');
const count = document.querySelector('[data-session-count]');
const end = document.querySelector('[data-end-sessions]');
const endButton = end.querySelector('[data-action="end-sessions"]');
const history = document.querySelector('[data-history]');

function verified(flag) {
  return el('strong', flag ? 'account.verified' : 'account.not_verified', null, 'tag ' + (flag ? 'tag--ok' : 'tag--todo'));
}

function showSessions(n) {
  count.replaceChildren(el('span', 'admin-resident.session_count', { n }));
  end.hidden = !(n > 0 && can('sessions:revoke'));
}

function show(data) {
  const r = data.account;
  box.dataset.status = r.status;
  const title = document.querySelector('[data-resident-name]');
  delete title.dataset.i18n;
  title.textContent = `${r.first_name} ${r.last_name}`;
  document.title = title.textContent + ' – E-KOLEK';
  profile.replaceChildren(
    row('console.status', el('strong', 'console.status.' + r.status, null, 'tag tag--' + r.status)),
    row('account.email', r.email, ' ', verified(r.email_verified)),
    row('account.phone', r.phone, ' ', verified(r.phone_verified)),
    row('account.barangay', r.barangay),
    row('console.registered', when(r.created_at)),
  );
  actionButtons(actions, r, reload);
  document.querySelector('[data-actions-section]').hidden = !can('residents:manage');
  showSessions(data.active_sessions);
  history.replaceChildren(
    ...data.status_history
      .slice()
      .reverse()
      .map((h) => {
        const li = el('li', null, null, 'row');
        const what = el('p', 'admin-resident.change', null, 'row__title');
        what.append(' ', el('span', 'console.status.' + h.from), ' → ', el('span', 'console.status.' + h.to));
        const meta = el('p', null, null, 'row__meta');
        meta.append(when(h.at));
        li.append(what, meta);
        if (h.reason) {
          const reason = el('p', 'console.reason_was');
          reason.append(' ', document.createTextNode(h.reason));
          li.append(reason);
        }
        return li;
      }),
  );
  document.querySelector('[data-no-history]').hidden = data.status_history.length > 0;
  box.hidden = false;
}

async function reload() {
  try {
    show(await call('GET', '/v1/admin/residents/' + encodeURIComponent(id)));
  } catch (err) {
    failed(err);
  }
}

// "End all sessions", confirmed in the page.
endButton.addEventListener('click', () => {
  if (end.querySelector('[data-confirm]')) return;
  const confirm = el('div', null, null, 'confirm');
  confirm.dataset.confirm = '';
  const q = el('p', 'admin-resident.end_confirm');
  q.tabIndex = -1;
  const yes = el('button', 'admin-resident.end_yes', null, 'button button--warning');
  yes.type = 'button';
  yes.dataset.action = 'confirm-end-sessions';
  const no = el('button', 'console.cancel', null, 'button button--secondary');
  no.type = 'button';
  const group = el('div', null, null, 'button-group');
  group.append(yes, no);
  confirm.append(q, group);
  end.append(confirm);
  endButton.setAttribute('aria-expanded', 'true');
  q.focus();
  no.addEventListener('click', () => {
    confirm.remove();
    endButton.setAttribute('aria-expanded', 'false');
    endButton.focus();
  });
  yes.addEventListener('click', async () => {
    yes.disabled = true;
    try {
      const answer = await call('DELETE', `/v1/admin/accounts/resident/${encodeURIComponent(id)}/sessions`);
      confirm.remove();
      endButton.setAttribute('aria-expanded', 'false');
      showSessions(0);
      showNotice('sessions_ended', { count: answer.revoked });
    } catch (err) {
      yes.disabled = false;
      failed(err);
    }
  });
});

if (await startConsole('residents:read')) await reload();
