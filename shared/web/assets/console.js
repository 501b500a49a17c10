// console.js: what every signed-in page of the admin console shares. The
// navigation shows only what the admin's role may do (the session answer's
// permissions: shared/account/access.go); a page the role may not see
// shows a 403 page instead (the API still decides every request); and an
// idle console warns a minute before its session ends, with "stay signed
// in", and leaves by itself when it does (api.js checks at the deadline).
import './i18n-console.js';
import { startPage, requireSession, peek, showError, clearErrors, ApiError, call, el } from './api.js';
import { t, translate, lang, when } from './i18n.js';

export { el, when };

const main = document.querySelector('main');
let permissions = [];

/** One row of a summary list: a label and a value (text, or nodes). */
export function row(labelKey, ...value) {
  const div = document.createElement('div');
  const dd = document.createElement('dd');
  dd.append(...value);
  div.append(el('dt', labelKey), dd);
  return div;
}

/** Whether the signed-in admin's role may do permission. */
export function can(permission) {
  return permissions.includes(permission);
}

/** The first page of the console this role may see. */
export function homeOf() {
  if (can('residents:read')) return '/admin/';
  if (can('security_events:read')) return '/admin/security';
  return '/admin/account';
}

document.addEventListener('ekolek:signed-in', (ev) => {
  permissions = ev.detail.permissions || [];
  for (const li of document.querySelectorAll('[data-console-nav] li')) {
    if (li.dataset.need && !can(li.dataset.need)) li.remove();
    else li.hidden = false;
    const a = li.querySelector('a');
    // The page, or a page under it: a resident under the queue, the
    // authenticator app's enrollment under the account.
    const href = a.getAttribute('href');
    const under = href === '/admin/' ? '/admin/residents/' : href + '/';
    if (href === location.pathname || location.pathname.startsWith(under)) {
      a.setAttribute('aria-current', 'page');
    }
  }
});

/** Replaces the page with the 403 page: this role may not see it. */
export function forbidden() {
  const box = el('div', null, null, 'forbidden');
  box.dataset.forbidden = '';
  const title = el('h1', 'console.forbidden_title');
  title.tabIndex = -1;
  const back = el('a', 'console.forbidden_back');
  back.href = homeOf();
  box.append(title, el('p', 'console.forbidden_text'), el('p', 'console.forbidden_ask'), el('p'));
  box.lastChild.append(back);
  main.replaceChildren(box);
  document.title = t('console.forbidden_title') + ' – E-KOLEK';
  title.focus();
}

/**
 * Starts a console page: the page, its session, the navigation; when the
 * role lacks need, the 403 page and null. Otherwise the session answer.
 */
export async function startConsole(need) {
  startPage();
  const data = await requireSession();
  if (need && !can(need)) {
    forbidden();
    return null;
  }
  return data;
}

/** Shows err; a 403 from the API (the role changed meanwhile) is the 403 page. */
export function failed(err, form) {
  if (err instanceof ApiError && err.status === 403 && err.code === 'forbidden') forbidden();
  else showError(err, form);
}

/**
 * Makes form, opened in the page by button, closable: form.cancel() (and
 * the cancel button) removes it, clears its errors and, from the cancel
 * button, gives the focus back to the button that opened it.
 */
export function closable(form, button, cancel) {
  form.cancel = () => {
    form.remove();
    button.setAttribute('aria-expanded', 'false');
    clearErrors();
  };
  cancel.addEventListener('click', () => {
    form.cancel();
    button.focus();
  });
}

/**
 * A listing that pages on by the API's cursor (the console's "show more"):
 * each call of the returned load() asks path(query) for the next page (the
 * query holds the filters and the cursor), appends row(item) for each of
 * page[items] to list, shows the "more" button while there is a next page
 * and the "empty" note when nothing matched; errors go to form.
 */
export function pager({ list, more, empty, form, path, filters, items, row }) {
  let cursor = null;
  return async function load() {
    const q = filters();
    if (cursor) q.set('cursor', cursor);
    more.disabled = true;
    try {
      const page = await call('GET', path + '?' + q);
      list.append(...page[items].map(row));
      cursor = page.next_cursor;
    } catch (err) {
      failed(err, form);
    } finally {
      more.disabled = false;
    }
    more.hidden = !cursor;
    empty.hidden = list.children.length > 0;
  };
}

// ---------------------------------------------------------------- the idle warning

const warnBefore = 60 * 1000;
let warnTimer = 0;
let warning = null;

function hideWarning() {
  if (!warning) return;
  const hadFocus = warning.contains(document.activeElement);
  warning.remove();
  warning = null;
  if (hadFocus) main.focus();
}

function showWarning(deadline) {
  const at = new Date(deadline).toLocaleTimeString(lang() === 'fil' ? 'fil-PH' : 'en-PH', { hour: 'numeric', minute: '2-digit', second: '2-digit' });
  if (warning) {
    warning.querySelector('[data-idle-text]').dataset.i18nVars = JSON.stringify({ time: at });
    translate(warning);
    return;
  }
  warning = el('div', null, null, 'idle-warning');
  warning.dataset.idleWarning = '';
  warning.setAttribute('role', 'alert');
  const text = el('p', 'console.idle_text', { time: at });
  text.dataset.idleText = '';
  const stay = el('button', 'console.idle_stay', null, 'button');
  stay.type = 'button';
  stay.dataset.action = 'stay-signed-in';
  stay.addEventListener('click', async () => {
    stay.disabled = true;
    try {
      await requireSession(); // a person's action: it extends the idle window
    } catch (err) {
      if (warning) stay.disabled = false;
      failed(err);
    }
  });
  warning.append(el('p', 'console.idle_title', null, 'idle-warning__title'), text, stay);
  main.prepend(warning);
  stay.focus();
}

// Each check of the session (api.js) says when it ends: a minute before,
// look again without touching it (another tab, or this one's work, may
// have moved it), then warn.
document.addEventListener('ekolek:session', (ev) => {
  clearTimeout(warnTimer);
  const left = ev.detail.deadline - Date.now();
  if (left <= warnBefore + 1000) {
    showWarning(ev.detail.deadline);
    return;
  }
  hideWarning();
  warnTimer = setTimeout(() => peek().catch(() => {}), left - warnBefore);
});
