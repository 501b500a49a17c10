// mfa-login.js: what follows a right password on the login pages of both
// realms when the account has two-step sign-in (login.js loads it only
// then), and signing in with a passkey. The second step is
// form[data-form="mfa"]: a code from the authenticator app or a recovery
// code (name="method", totp or recovery; "Use a recovery code" switches),
// or a passkey when the account has one. The login's mfa_token stays in
// that form, in this page's memory; an admin who must first set up a
// factor takes it to the enrollment page (mfa-token.js).
import './i18n-mfa.js';
import { bindForm, clearErrors, showError, nextPage, paths, realm, el } from './api.js';
import { translate } from './i18n.js';
import { keepToken } from './mfa-token.js';
import { signIn } from './passkeys.js';

let step = null; // the second step, once shown

/** Where a login's answer without a session leads: the second step, or the enrollment page. */
export function next(answer) {
  if (answer.mfa_enrollment_required) {
    keepToken(realm, answer.mfa_token, nextPage());
    location.assign(paths.authenticator);
    return;
  }
  showStep(answer);
}

/**
 * Signs in with a passkey, from button: the second step of a login with
 * mfaToken, or, without one, by the passkey alone (with the login form's
 * "keep me signed in", where the page has one).
 */
export async function passkeySignIn(button, mfaToken) {
  button.disabled = true;
  clearErrors();
  const remember = !mfaToken && !!document.querySelector('form[data-form="login"] [name="remember"]:checked');
  try {
    await signIn(mfaToken, remember);
    location.replace(nextPage());
  } catch (err) {
    button.disabled = false;
    showError(err, step && step.querySelector('form'));
    if (mfaToken) startAgain(err);
  }
}

/** After an error of the second step: a dead mfa_token, or a locked sign-in, can only start again. */
function startAgain(err) {
  if (err.code !== 'invalid_token' && err.code !== 'too_many_attempts') return;
  const link = el('a', 'mfa.start_again');
  link.href = location.pathname + location.search;
  const p = el('p');
  p.append(link);
  document.querySelector('.error-summary').append(p);
}

/** A button of step's "other ways" (data-way), in a paragraph of its own. */
function way(name, key, cls) {
  const p = el('p');
  p.dataset.way = name;
  const b = el('button', key, null, 'button ' + cls);
  b.type = 'button';
  b.dataset.action = 'use-' + name;
  p.append(b);
  return p;
}

/** The second step, built when needed (the login page does not carry it). */
function buildStep() {
  const div = el('div');
  div.dataset.step = 'mfa';
  const title = el('h1', 'mfa.title');
  title.tabIndex = -1;
  const form = el('form');
  form.dataset.form = 'mfa';
  form.method = 'post';
  form.action = paths.api + '/login/mfa';
  form.noValidate = true;
  for (const name of ['mfa_token', 'method']) {
    const input = document.createElement('input');
    input.type = 'hidden';
    input.name = name;
    form.append(input);
  }
  const label = el('label');
  label.htmlFor = 'code';
  const hint = el('p', null, null, 'hint');
  hint.id = 'code-hint';
  const code = document.createElement('input');
  Object.assign(code, { id: 'code', name: 'code', type: 'text', autocapitalize: 'none', spellcheck: false, required: true });
  code.setAttribute('aria-describedby', hint.id);
  const field = el('div', null, null, 'field');
  field.append(label, hint, code);
  const submit = el('button', 'mfa.submit', null, 'button');
  submit.type = 'submit';
  form.append(field, submit);
  const again = el('a', 'mfa.start_again');
  again.href = location.pathname + location.search;
  again.dataset.action = 'start-again';
  const last = el('p');
  last.append(again);
  div.append(title, el('p', 'mfa.lead'), form, el('h2', 'mfa.other_ways'),
    way('passkey', 'mfa.use_passkey', 'button--secondary'), way('recovery', 'mfa.use_recovery', 'button--link'),
    way('totp', 'mfa.use_totp', 'button--link'), last);
  return div;
}

function showStep(answer) {
  const password = document.querySelector('[data-step="password"]');
  password.querySelector('[name="password"]').value = '';
  password.hidden = true;
  document.querySelectorAll('main [data-notice]').forEach((n) => n.remove()); // it was about the page before
  step = buildStep();
  password.after(step);
  const form = step.querySelector('form[data-form="mfa"]');
  const code = form.elements.code;
  const methods = answer.methods || [];
  const ways = (name) => step.querySelector(`[data-way="${name}"]`);

  const use = (method) => {
    const app = method === 'totp';
    form.elements.method.value = method;
    step.querySelector('label[for="code"]').dataset.i18n = 'mfa.code_' + method;
    step.querySelector('#code-hint').dataset.i18n = 'mfa.code_' + method + '_hint';
    code.value = '';
    code.inputMode = app ? 'numeric' : 'text';
    code.autocomplete = app ? 'one-time-code' : 'off';
    code.className = app ? 'input--code' : 'input--recovery';
    ways('recovery').hidden = !app;
    ways('totp').hidden = app || !methods.includes('totp');
    clearErrors();
    translate(step);
  };
  use(methods.includes('totp') ? 'totp' : 'recovery');
  form.elements.mfa_token.value = answer.mfa_token;
  for (const method of ['recovery', 'totp']) {
    ways(method).querySelector('button').addEventListener('click', () => {
      use(method);
      code.focus();
    });
  }
  ways('passkey').hidden = !methods.includes('webauthn') || !window.PublicKeyCredential;
  const passkey = ways('passkey').querySelector('button');
  passkey.addEventListener('click', () => passkeySignIn(passkey, answer.mfa_token));
  bindForm(form, {
    done: () => location.replace(nextPage()),
    failed: startAgain,
  });
  const title = document.querySelector('title');
  title.dataset.i18n = 'mfa.title';
  translate(title);
  step.querySelector('h1').focus();
}
