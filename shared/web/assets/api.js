// api.js: what every page does with the JSON API on this same origin.
// fetch with JSON and the CSRF header; API errors shown as an error summary
// that takes focus and links to the fields, with the same message beside
// each field; notices of what just happened; and the realm's session: a
// sign-out, expiry or revocation noticed in one tab (or by a check when a
// tab comes back into view) sends every signed-in tab of that realm, and
// only of that realm, to its login page with a notice.
import { t, startLanguage, setTitleError, translate } from './i18n.js';

const realms = {
  resident: { api: '/v1/resident', login: '/login', home: '/account', account: '/account', authenticator: '/account/authenticator' },
  admin: { api: '/v1/admin', login: '/admin/login', home: '/admin/', account: '/admin/account', authenticator: '/admin/account/authenticator' },
};

/** The page's realm ("resident" or "admin"), from <body data-realm>. */
export const realm = document.body.dataset.realm || 'resident';
/** The realm's paths: api (prefix), the login, home and account pages, and the authenticator app's enrollment. */
export const paths = realms[realm];
let signedInPage = document.body.hasAttribute('data-signed-in');
const main = document.querySelector('main');

/** An error answer of the API (or code "network" when none came). */
export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    const e = (body && body.error) || {};
    super(e.code || (status ? 'internal' : 'network'));
    this.status = status;
    this.code = this.message;
    this.fields = e.fields || {};
    this.reasons = e.reasons || [];
    this.retryAfter = Number(retryAfter) || 0;
  }
}

/** The CSRF token: the cookie the API set at login (prefixed in production). */
export function csrfToken() {
  for (const part of document.cookie.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === 'ekolek_csrftoken' || name === '__Host-ekolek_csrftoken') return value.join('=');
  }
  return '';
}

let skew = 0; // server clock minus this browser's, from the Date header

/**
 * Calls the API: call('POST', '/v1/resident/login', {identifier, password}).
 * Resolves to the JSON answer ({} for 204); rejects with an ApiError. A 401
 * from this realm's API on a signed-in page ends the page (leave).
 */
export async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken()) headers['X-CSRF-Token'] = csrfToken();
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, null, 0);
  }
  const date = Date.parse(res.headers.get('Date') || '');
  if (date) skew = date - Date.now();
  const data = res.status === 204 ? {} : await res.json().catch(() => ({}));
  if (res.ok) return data;
  const err = new ApiError(res.status, data, res.headers.get('Retry-After'));
  if (res.status === 401 && signedInPage && path.startsWith(paths.api + '/')) {
    // The cookie is the browser's, so the realm's other tabs are signed out
    // too. An expired session is deleted by the first check that finds it,
    // so a tab checking a moment later hears only "unauthenticated": it
    // waits a moment for the first one's word before saying "signed out".
    if (err.code === 'session_expired') leave('session_expired');
    else if (loaded) leave('signed_out', { wait: 300 });
    else leave('sign_in', { tell: false });
  }
  throw err;
}

// ---------------------------------------------------------------- the realm's tabs

const channel = 'BroadcastChannel' in window ? new BroadcastChannel('ekolek-' + realm) : null;
let leaving = false; // on the way out: errors are no longer shown
let gone = false;

/**
 * Ends this signed-in page: tells the realm's other tabs (unless one told
 * this one, or nobody was signed in), then goes to the realm's login page
 * with a notice; after wait ms, unless another tab's word came first. The
 * login page returns here (?next=) unless the person signed out on purpose.
 */
export function leave(notice, { tell = true, next = true, wait = 0 } = {}) {
  leaving = true;
  setTimeout(() => {
    if (gone) return;
    gone = true;
    if (tell && channel) channel.postMessage({ type: 'signed_out', notice });
    const q = new URLSearchParams({ notice });
    if (next) q.set('next', location.pathname + location.search);
    location.replace(paths.login + '?' + q);
  }, wait);
}

/** Signs out of this realm (the header's button), then leaves. */
export async function logout() {
  try {
    await call('POST', paths.api + '/logout');
  } catch (err) {
    if (err.status !== 401) return showError(err);
  }
  leave('signed_out', { next: false });
}

let deadlineTimer = 0;
let loaded = false; // the page has had its session once

/**
 * Looks at the session without touching it (?peek=1: only what a person
 * does extends the idle window). A dead session ends the page through call.
 */
export async function peek() {
  const data = await call('GET', paths.api + '/session?peek=1');
  watchDeadline(data.session);
  return data;
}

/**
 * The session of this realm for a signed-in page: loaded once (this counts
 * as the person's own action; the event "ekolek:signed-in" carries the
 * answer: account, session and, for an admin, permissions), then watched. Without one, the page goes to
 * the login page, which returns here after.
 */
export async function requireSession() {
  const data = await call('GET', paths.api + '/session');
  loaded = true;
  document.dispatchEvent(new CustomEvent('ekolek:signed-in', { detail: data }));
  watchDeadline(data.session);
  return data;
}

/**
 * When the session's own deadline passes (the earlier of the idle and the
 * absolute expiry, by the server's clock), looks again; at most every ten
 * minutes meanwhile, so a revocation elsewhere is noticed too. Fires the
 * event "ekolek:session" on document with the session and its deadline in
 * this browser's time (for an idle warning).
 */
export function watchDeadline(session) {
  if (!session) return;
  const until = Math.min(Date.parse(session.idle_expires_at), Date.parse(session.expires_at)) - skew;
  document.dispatchEvent(new CustomEvent('ekolek:session', { detail: { session, deadline: until } }));
  clearTimeout(deadlineTimer);
  const wait = Math.min(Math.max(until - Date.now() + 1000, 5000), 10 * 60 * 1000);
  deadlineTimer = setTimeout(() => peek().catch(() => {}), wait);
}

function watchRealm() {
  if (channel) {
    channel.onmessage = (ev) => {
      if (signedInPage && ev.data && ev.data.type === 'signed_out') leave(ev.data.notice, { tell: false, next: ev.data.notice !== 'signed_out' });
    };
  }
  if (!signedInPage) return;
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') peek().catch(() => {});
  });
  addEventListener('pageshow', (ev) => {
    if (ev.persisted) peek().catch(() => {});
  });
}

/**
 * The page to go to after a login: ?next= when it is a path of this realm
 * on this origin, else the realm's home. Anything that could leave the
 * origin (//host, /\host, a scheme, control characters) is refused.
 */
export function nextPage() {
  const raw = new URLSearchParams(location.search).get('next') || '';
  if (!/^\/(?![/\\])[^\\\s]*$/.test(raw)) return paths.home;
  let url;
  try {
    url = new URL(raw, location.origin);
  } catch {
    return paths.home;
  }
  const admin = url.pathname === '/admin' || url.pathname.startsWith('/admin/');
  if (url.origin !== location.origin || admin !== (realm === 'admin') || url.pathname === paths.login) return paths.home;
  return url.pathname + url.search + url.hash;
}

// ---------------------------------------------------------------- messages

/** Puts el first in <main>, in place of any element matching selector. */
function place(el, selector) {
  main.querySelectorAll(selector).forEach((old) => old.remove());
  main.prepend(el);
}

/** An element with a translated text (data-i18n, when key is given) and optional variables and class. */
export function el(tag, key, vars, cls) {
  const e = document.createElement(tag);
  if (key) {
    e.dataset.i18n = key;
    if (vars) e.dataset.i18nVars = JSON.stringify(vars);
    e.textContent = t(key, vars);
  }
  if (cls) e.className = cls;
  return e;
}

/** Shows a notice [data-notice=code] of what just happened; it takes focus. */
export function showNotice(code, vars) {
  const box = document.createElement('div');
  box.className = 'notice';
  box.dataset.notice = code;
  box.setAttribute('role', 'status');
  box.tabIndex = -1;
  box.append(el('p', 'notice.' + code, vars));
  place(box, '[data-notice]');
  box.focus();
  return box;
}

/** Removes the error summary and every field's message. */
export function clearErrors() {
  main.querySelectorAll('.error-summary').forEach((el) => el.remove());
  main.querySelectorAll('.field--error').forEach((el) => el.classList.remove('field--error'));
  main.querySelectorAll('.field-error').forEach((el) => {
    const input = el.parentElement.querySelector('[aria-invalid]');
    if (input) {
      input.removeAttribute('aria-invalid');
      const ids = (input.getAttribute('aria-describedby') || '').split(' ').filter((id) => id && id !== el.id);
      if (ids.length) input.setAttribute('aria-describedby', ids.join(' '));
      else input.removeAttribute('aria-describedby');
    }
    el.remove();
  });
  setTitleError(false);
}

// Errors that belong to one field of the form that caused them.
const errorField = { invalid_code: 'code', weak_password: ['password', 'new_password'] };

/**
 * Shows an API error: a summary at the top of the page (role=alert,
 * data-error=<code>) that takes focus and links to each field it names,
 * and the same message beside each of those fields of form.
 */
export function showError(err, form) {
  if (!(err instanceof ApiError)) err = new ApiError(0, null, 0);
  clearErrors();
  const summary = document.createElement('div');
  summary.className = 'error-summary';
  summary.setAttribute('role', 'alert');
  summary.dataset.error = err.code;
  summary.tabIndex = -1;
  summary.setAttribute('aria-labelledby', 'error-summary-title');
  const title = el('h2', 'error.title');
  title.id = 'error-summary-title';
  summary.append(title);
  const vars = err.retryAfter ? { minutes: Math.max(1, Math.ceil(err.retryAfter / 60)) } : undefined;
  const messageKey = messageFor(err.code, form);
  const fields = { ...err.fields };
  for (const name of [].concat(errorField[err.code] || [])) {
    if (form && form.elements[name] && form.elements[name].type !== 'hidden') fields[name] = err.code;
  }
  // In the order of the form, then any the form does not have.
  const order = form ? [...form.elements].map((e) => e.name) : [];
  const rank = (name) => (order.includes(name) ? order.indexOf(name) : order.length);
  const list = document.createElement('ul');
  for (const [name, why] of Object.entries(fields).sort((a, b) => rank(a[0]) - rank(b[0]))) {
    const input = form && form.elements[name];
    const key = fieldKey(name, why, err.code, messageKey);
    const item = document.createElement('li');
    if (input && input.id && input.type !== 'hidden') {
      const link = el('a', key);
      link.href = '#' + input.id;
      link.addEventListener('click', (ev) => {
        ev.preventDefault();
        input.focus();
        input.closest('.field')?.scrollIntoView({ block: 'start' });
      });
      item.append(link);
      markField(input, key, err);
    } else {
      item.append(el('span', key));
    }
    list.append(item);
  }
  summary.append(list.children.length ? list : el('p', messageKey, vars));
  place(summary, '.error-summary');
  const notice = main.querySelector('[data-notice]');
  if (notice) notice.remove();
  setTitleError(true);
  summary.focus();
  return summary;
}

/**
 * The text of an error code: where one form (data-form), or one realm,
 * needs other words than the rest, error.<code>.<form> or
 * error.<code>.<realm>; else error.<code>.
 */
function messageFor(code, form) {
  const keys = ['error.' + code + '.' + realm, 'error.' + code];
  if (form && form.dataset.form) keys.unshift('error.' + code + '.' + form.dataset.form);
  return keys.find((k) => t.has(k)) || 'error.unknown';
}

function fieldKey(name, why, code, messageKey) {
  if (code === 'weak_password' || code === 'invalid_code') return messageKey;
  if (code === 'invalid_credentials') return t.has(`field.${name}.wrong`) ? `field.${name}.wrong` : 'field.current_password.wrong';
  for (const key of [`field.${name}.${why === 'required' ? 'required' : 'invalid'}`, 'field.' + why]) {
    if (t.has(key)) return key;
  }
  return 'field.invalid';
}

/** The message beside a field, before the input (after its label and hint). */
function markField(input, key, err) {
  const field = input.closest('.field') || input.parentElement;
  field.classList.add('field--error');
  const msg = document.createElement('p');
  msg.className = 'field-error';
  msg.id = input.id + '-error';
  msg.append(el('span', 'error.prefix', undefined, 'visually-hidden'), ' ', el('span', key));
  if (err.code === 'weak_password' && err.reasons.length) {
    const why = document.createElement('ul');
    for (const r of err.reasons) why.append(el('li', t.has('reason.' + r) ? 'reason.' + r : 'reason.too_guessable'));
    msg.append(why);
  }
  input.before(msg);
  input.setAttribute('aria-invalid', 'true');
  const ids = (input.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
  input.setAttribute('aria-describedby', [msg.id, ...ids].join(' '));
}

// ---------------------------------------------------------------- forms

/** A form's values by input name, as the API takes them: checkboxes as booleans, passwords untrimmed. */
export function formValues(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled || el.type === 'submit' || el.type === 'button') continue;
    if (el.type === 'checkbox') out[el.name] = el.checked;
    else if (el.type === 'radio') {
      if (el.checked) out[el.name] = el.value;
    } else out[el.name] = el.type === 'password' ? el.value : el.value.trim();
  }
  return out;
}

/**
 * Sends form to its action as JSON when it is submitted and shows the API's
 * errors. done(answer, sent) runs on success, failed(err, sent) after an
 * error is shown; values(form) replaces formValues. The submit button is
 * disabled while the request runs. A form built by a script may name
 * another method than HTML's two in data-method ("patch").
 */
export function bindForm(form, { done, failed, values = formValues }) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (form.dataset.busy) return;
    form.dataset.busy = 'true';
    const button = form.querySelector('[type=submit]');
    if (button) button.disabled = true;
    const body = values(form);
    try {
      let answer;
      try {
        // Attributes, not form.method and form.action: an input named
        // "method" (the second step's) would stand in their place.
        answer = await call((form.dataset.method || form.getAttribute('method')).toUpperCase(), form.getAttribute('action'), body);
      } catch (err) {
        if (leaving) return;
        showError(err, form);
        if (failed) failed(err, body);
        return;
      }
      clearErrors();
      await done(answer, body);
    } finally {
      delete form.dataset.busy;
      if (button && !button.dataset.cooldownTimer) button.disabled = false;
    }
  });
}

/**
 * Disables button until then (this browser's time), counting down in its
 * text: its data-i18n key with "_wait" ("Send a new code (42 s)").
 */
export function cooldown(button, until) {
  const key = button.dataset.cooldownKey || (button.dataset.cooldownKey = button.dataset.i18n);
  clearTimeout(Number(button.dataset.cooldownTimer));
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    button.disabled = left > 0;
    button.dataset.i18n = left > 0 ? key + '_wait' : key;
    if (left > 0) button.dataset.i18nVars = JSON.stringify({ seconds: left });
    else delete button.dataset.i18nVars;
    translate(button);
    if (left > 0) button.dataset.cooldownTimer = setTimeout(tick, 1000);
  };
  tick();
}

/**
 * Makes a signed-in page a step of signing in instead, before startPage:
 * an admin enrolling a first factor with the login's mfa_token has no
 * session yet, so the page has no sign-out button or console menu, and a
 * 401 or another tab's sign-out does not end it.
 */
export function withoutSession() {
  signedInPage = false;
  document.body.removeAttribute('data-signed-in');
  document.querySelectorAll('[data-action="logout"], .console-nav').forEach((e) => e.remove());
}

/** Starts a page: <html class="js"> (its script runs; tests wait for it), the language, a notice from ?notice=, the sign-out button, the realm's tabs. */
export function startPage() {
  document.documentElement.classList.add('js');
  startLanguage();
  const q = new URLSearchParams(location.search);
  const notice = q.get('notice');
  if (notice && /^[a-z_]+$/.test(notice) && t.has('notice.' + notice)) {
    showNotice(notice);
    q.delete('notice');
    history.replaceState(null, '', location.pathname + (q.size ? '?' + q : '') + location.hash);
  }
  document.querySelectorAll('[data-action="logout"]').forEach((b) => b.addEventListener('click', logout));
  watchRealm();
}
