// factors.js: two-step sign-in on the account pages of both realms: my
// factors (each row data-factor-id, data-factor-type; rename, remove), the
// recovery codes left and a new set, and adding a passkey (the
// authenticator app has its own page). Removing a factor and a new set of
// recovery codes need the password again when the API says so
// (reauth_required): the page asks for it in place, then does what was
// asked. Confirmations and forms open under what opened them, one at a
// time; never a browser dialog.
import './i18n-mfa.js';
import { call, bindForm, showError, showNotice, clearErrors, el, paths } from './api.js';
import { t, translate, when } from './i18n.js';
import { showCodes } from './recovery-codes.js';
import { register, supported } from './passkeys.js';

const section = document.querySelector('[data-factors-section]');
const body = section.querySelector('[data-factors-body]');
const list = section.querySelector('[data-factors]');
const newCodes = section.querySelector('[data-action="new-recovery-codes"]');
const addPasskey = section.querySelector('[data-action="add-passkey"]');
let username = ''; // for password managers, in the password form
let seq = 0;

function button(key, cls, action, type = 'button') {
  const b = el('button', key, null, 'button ' + cls);
  b.type = type;
  if (action) b.dataset.action = action;
  return b;
}

/** What a factor is called: its name, or its kind. */
function nameOf(f) {
  return f.name || t('factors.' + f.type);
}

function row(f) {
  const li = document.createElement('li');
  li.dataset.factorId = f.id;
  li.dataset.factorType = f.type;
  const title = el('p', null, null, 'device');
  title.id = 'factor-' + f.id;
  if (f.name) title.append(f.name, ' ', el('span', 'factors.' + f.type, null, 'tag'));
  else title.append(el('span', 'factors.' + f.type));
  const meta = el('p', null, null, 'meta');
  meta.append(el('span', 'factors.added'), ' ', when(f.created_at), ' · ');
  meta.append(...(f.last_used_at ? [el('span', 'factors.last_used'), ' ', when(f.last_used_at)] : [el('span', 'factors.never_used')]));
  const rename = button('factors.rename', 'button--secondary', 'rename');
  const remove = button('factors.remove', 'button--secondary', 'remove');
  for (const b of [rename, remove]) {
    b.setAttribute('aria-describedby', title.id);
    b.setAttribute('aria-expanded', 'false');
  }
  rename.addEventListener('click', () => openRename(li, f, rename));
  remove.addEventListener('click', () => openRemove(li, f, remove));
  const actions = el('div', null, null, 'button-group');
  actions.append(rename, remove);
  li.append(title, meta, actions);
  return li;
}

/** Loads my factors and recovery codes left into the section. */
export async function showFactors() {
  const o = await call('GET', paths.api + '/mfa');
  list.replaceChildren(...o.factors.map(row));
  section.querySelector('[data-factors-none]').hidden = o.factors.length > 0;
  section.querySelector('[data-factors-required]').hidden = !o.required;
  const left = section.querySelector('[data-recovery-left]');
  left.dataset.i18n = 'factors.recovery_left';
  left.dataset.i18nVars = JSON.stringify({ n: o.recovery_codes_left });
  left.hidden = o.factors.length === 0;
  newCodes.parentElement.hidden = o.factors.length === 0;
  translate(section);
}

/** Closes whatever is open under a row or button (one at a time). */
function closeOpen() {
  section.querySelectorAll('[data-opened]').forEach((box) => box.close());
}

/**
 * Opens box after anchor (a row's content, or a button), for opener: it
 * closes with box.close(), giving the focus back to opener when cancelled.
 */
function open(box, anchor, opener, focus) {
  closeOpen();
  clearErrors();
  box.dataset.opened = '';
  box.close = (back) => {
    box.remove();
    opener.setAttribute('aria-expanded', 'false');
    if (back) opener.focus();
  };
  anchor.append(box);
  opener.setAttribute('aria-expanded', 'true');
  translate(box);
  focus.focus();
}

function cancelButton(box, key = 'factors.cancel') {
  const b = button(key, 'button--secondary', 'cancel');
  b.addEventListener('click', () => {
    clearErrors();
    box.close(true);
  });
  return b;
}

/**
 * A labelled input in a .field: label, hint (optional), input; the input
 * gets a fresh id, so two open forms never share one.
 */
function field(labelKey, hintKey, input) {
  const div = el('div', null, null, 'field');
  input.id = 'field-' + ++seq;
  const label = el('label', labelKey);
  label.htmlFor = input.id;
  div.append(label);
  if (hintKey) {
    const hint = el('p', hintKey, null, 'hint');
    hint.id = input.id + '-hint';
    input.setAttribute('aria-describedby', hint.id);
    div.append(hint);
  }
  div.append(input);
  return div;
}

function openRename(li, f, opener) {
  const form = el('form', null, null, 'confirm');
  form.dataset.form = 'factor-rename';
  form.dataset.method = 'patch';
  form.method = 'post';
  form.action = paths.api + '/mfa/' + encodeURIComponent(f.id);
  form.noValidate = true;
  const input = document.createElement('input');
  input.type = 'text';
  input.name = 'name';
  input.value = f.name;
  input.autocomplete = 'off';
  const group = el('div', null, null, 'button-group');
  group.append(button('factors.name_save', '', null, 'submit'), cancelButton(form));
  form.append(field('factors.name', 'factors.name_hint', input), group);
  bindForm(form, {
    done: async () => {
      await showFactors();
      showNotice('factor_renamed');
    },
  });
  open(form, li, opener, input);
}

function openRemove(li, f, opener) {
  const box = el('div', null, null, 'confirm');
  const q = el('h3', 'factors.confirm_remove', { name: nameOf(f) });
  q.tabIndex = -1;
  const yes = button('factors.remove_yes', 'button--warning', 'confirm-remove');
  const group = el('div', null, null, 'button-group');
  group.append(yes, cancelButton(box, 'factors.keep'));
  box.append(q, el('p', 'factors.remove_effect'), group);
  yes.addEventListener('click', () => withPassword(box, yes, () => call('DELETE', paths.api + '/mfa/' + encodeURIComponent(f.id)), async () => {
    await showFactors();
    showNotice('factor_removed', { name: nameOf(f) });
  }));
  open(box, li, opener, q);
}

/**
 * Runs action, then done(answer), from trigger (disabled meanwhile);
 * errors are shown. When the API answers reauth_required, box asks for the
 * password (form[data-form="reauth"]) in place of what it showed, confirms
 * it (POST reauth: good for 5 minutes), and runs action again.
 */
async function withPassword(box, trigger, action, done) {
  let form = null;
  const run = async () => {
    try {
      await done(await action());
    } catch (err) {
      if (err.code === 'reauth_required' && !form) form = askPassword(box, run);
      else showError(err, form);
    }
  };
  trigger.disabled = true;
  await run();
  trigger.disabled = false;
}

/** Puts the password form in box; then() runs once the API confirmed it. */
function askPassword(box, then) {
  const form = el('form', null, null, 'reauth');
  form.dataset.form = 'reauth';
  form.method = 'post';
  form.action = paths.api + '/reauth';
  form.noValidate = true;
  const user = document.createElement('input');
  user.type = 'text';
  user.autocomplete = 'username';
  user.hidden = true;
  user.value = username;
  const input = document.createElement('input');
  input.type = 'password';
  input.name = 'password';
  input.autocomplete = 'current-password';
  const title = el('h3', 'reauth.title');
  title.tabIndex = -1;
  const group = el('div', null, null, 'button-group');
  group.append(button('reauth.submit', '', null, 'submit'), cancelButton(box));
  form.append(title, el('p', 'reauth.lead'), user, field('reauth.password', null, input), group);
  bindForm(form, { done: then });
  box.replaceChildren(form);
  title.focus();
  return form;
}

/** Shows a new set of recovery codes in place of the section's content. */
function codes(recoveryCodes, notice) {
  body.hidden = true;
  showCodes(recoveryCodes, async () => {
    await showFactors().catch(showError);
    body.hidden = false;
    if (notice) showNotice(notice);
    else section.querySelector('h2').focus();
  });
}

newCodes.addEventListener('click', () => {
  const box = el('div', null, null, 'confirm');
  const q = el('p', 'factors.new_codes_effect');
  q.tabIndex = -1;
  const yes = button('factors.new_codes_yes', '', 'confirm-new-codes');
  const group = el('div', null, null, 'button-group');
  group.append(yes, cancelButton(box));
  box.append(q, group);
  yes.addEventListener('click', () => withPassword(box, yes, () => call('POST', paths.api + '/mfa/recovery-codes', {}), (answer) => {
    box.close();
    codes(answer.recovery_codes);
  }));
  open(box, newCodes.parentElement, newCodes, q);
});

addPasskey.addEventListener('click', async () => {
  addPasskey.disabled = true;
  clearErrors();
  try {
    const answer = await register();
    if (answer.recovery_codes) codes(answer.recovery_codes, 'passkey_added');
    else {
      await showFactors();
      showNotice('passkey_added');
    }
  } catch (err) {
    showError(err);
  } finally {
    addPasskey.disabled = false;
  }
});

/** Starts the section for the signed-in account (username: for password managers). */
export function startFactors(account) {
  username = account.username || account.email || account.phone;
  section.querySelector('[data-passkey-add]').hidden = !supported;
  return showFactors();
}
