// admins.js: the admins (data-page "admin-admins", super_admin): every
// admin with role, barangays and status; a change of role, barangays or
// status with a reason, in place; the invitation of a new admin. The API's
// 409 last_super_admin is explained in plain words (i18n-console.js).
import { call, showNotice, clearErrors } from './api.js';
import { startConsole, el, failed, closable } from './console.js';
import { translate } from './i18n.js';

const roles = ['operations_manager', 'content_rewards_manager', 'security_analyst', 'super_admin'];
const list = document.querySelector('[data-admins]');
const more = document.querySelector('[data-action="more"]');
const invite = document.querySelector('form[data-form="invite"]');
let directory = [];
let cursor = null;
let me = null;
let seq = 0;

function roleSelect(select, value) {
  for (const r of roles) {
    const o = new Option('', r);
    o.dataset.i18n = 'role.' + r;
    select.append(o);
  }
  select.value = value;
}

/** Checkboxes name="barangays", one per barangay of the directory. */
function barangayChecks(box, chosen, prefix) {
  for (const b of directory) {
    const div = el('div', null, null, 'choice');
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.name = 'barangays';
    input.value = b;
    input.id = `${prefix}-${b.replace(/[^A-Za-z0-9]/g, '')}`;
    input.checked = chosen.includes(b);
    const label = document.createElement('label');
    label.htmlFor = input.id;
    label.textContent = b;
    div.append(input, label);
    box.append(div);
  }
}

const checked = (form) => [...form.querySelectorAll('input[name="barangays"]:checked')].map((i) => i.value);

function adminRow(a) {
  const li = el('li', null, null, 'row');
  li.dataset.adminId = a.id;
  li.dataset.status = a.status;
  const title = el('p', null, null, 'row__title');
  title.append(`${a.full_name} (${a.username}) `, el('strong', 'console.status.' + a.status, null, 'tag tag--' + a.status));
  const meta = el('p', null, null, 'row__meta');
  meta.append(el('span', 'role.' + a.role), ` · ${a.email}`);
  if (a.barangays.length) meta.append(' · ' + a.barangays.join(', '));
  const change = el('button', 'admin-admins.change', null, 'button button--secondary');
  change.type = 'button';
  change.dataset.action = 'change';
  change.setAttribute('aria-expanded', 'false');
  change.addEventListener('click', () => openChange(li, a, change));
  const actions = el('div', null, null, 'actions');
  if (me && a.id !== me.id) actions.append(change);
  else actions.append(el('p', 'admin-admins.you', null, 'hint'));
  li.append(title, meta, actions);
  return li;
}

function field(key, input) {
  const div = el('div', null, null, 'field');
  const label = el('label', key);
  label.htmlFor = input.id;
  div.append(label, input);
  return div;
}

/** The change form of one admin, in place (one at a time). */
function openChange(li, a, button) {
  document.querySelectorAll('form[data-form="admin-change"]').forEach((f) => f.cancel());
  const n = ++seq;
  const form = document.createElement('form');
  form.className = 'confirm';
  form.dataset.form = 'admin-change';
  form.method = 'post';
  form.action = '/v1/admin/admins/' + encodeURIComponent(a.id);
  form.noValidate = true;
  const title = el('h3', 'admin-admins.change_title', { name: a.full_name });
  title.tabIndex = -1;
  const role = document.createElement('select');
  role.className = 'input';
  role.id = 'role-' + n;
  role.name = 'role';
  roleSelect(role, a.role);
  const status = document.createElement('select');
  status.className = 'input';
  status.id = 'status-' + n;
  status.name = 'status';
  for (const s of ['active', 'suspended']) {
    const o = new Option('', s);
    o.dataset.i18n = 'console.status.' + s;
    status.append(o);
  }
  status.value = a.status;
  const places = el('fieldset', null, null, 'field');
  places.append(el('legend', 'admin-admins.barangays'));
  const checks = el('div', null, null, 'checks');
  barangayChecks(checks, a.barangays, 'b' + n);
  places.append(checks);
  const reason = document.createElement('textarea');
  reason.id = 'reason-' + n;
  reason.name = 'reason';
  reason.rows = 2;
  reason.maxLength = 500;
  const submit = el('button', 'admin-admins.save', null, 'button');
  submit.type = 'submit';
  const cancel = el('button', 'console.cancel', null, 'button button--secondary');
  cancel.type = 'button';
  const group = el('div', null, null, 'button-group');
  group.append(submit, cancel);
  form.append(title, field('account.role', role), field('console.status', status), places, field('console.reason', reason), el('p', 'admin-admins.suspend_effect', null, 'hint'), group);
  closable(form, button, cancel);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { reason: reason.value.trim() };
    if (role.value !== a.role) body.role = role.value;
    if (status.value !== a.status) body.status = status.value;
    const bs = checked(form);
    if (bs.join('\n') !== a.barangays.join('\n')) body.barangays = bs;
    if (Object.keys(body).length === 1) return form.cancel();
    submit.disabled = true;
    try {
      const answer = await call('PATCH', form.getAttribute('action'), body);
      const fresh = adminRow(answer.account);
      li.replaceWith(fresh);
      showNotice('admin_changed', { name: answer.account.full_name });
    } catch (err) {
      submit.disabled = false;
      failed(err, form);
    }
  });
  li.append(form);
  translate(form);
  button.setAttribute('aria-expanded', 'true');
  title.focus();
}

async function load() {
  more.disabled = true;
  try {
    const page = await call('GET', '/v1/admin/admins' + (cursor ? '?cursor=' + encodeURIComponent(cursor) : ''));
    list.append(...page.admins.map(adminRow));
    cursor = page.next_cursor;
  } catch (err) {
    failed(err);
  } finally {
    more.disabled = false;
  }
  more.hidden = !cursor;
}

invite.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const v = (name) => invite.elements[name].value.trim();
  const body = { full_name: v('full_name'), username: v('username'), email: v('email'), role: invite.elements.role.value, barangays: checked(invite) };
  const button = invite.querySelector('[type=submit]');
  button.disabled = true;
  try {
    const answer = await call('POST', invite.getAttribute('action'), body);
    clearErrors();
    list.append(adminRow(answer.account));
    invite.reset();
    showNotice(answer.invitation_sent ? 'admin_invited' : 'admin_invite_unsent', { email: answer.account.email });
  } catch (err) {
    failed(err, invite);
  } finally {
    button.disabled = false;
  }
});

const data = await startConsole('admins:manage');
if (data) {
  me = data.account;
  try {
    directory = (await call('GET', '/v1/barangays')).barangays;
  } catch {
    directory = [];
  }
  roleSelect(invite.elements.role, 'operations_manager');
  barangayChecks(document.querySelector('[data-barangay-list]'), [], 'invite');
  translate(invite);
  more.addEventListener('click', load);
  await load();
}
