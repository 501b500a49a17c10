// mfa-enroll.js: setting up an authenticator app (data-page "mfa-enroll",
// "admin-mfa-enroll"). The API makes a key, shown as a QR code and as text
// ([data-secret]); the app's first code confirms it
// (form[data-form="mfa-enroll"]); a first factor comes with recovery
// codes, shown once. Signed in, this is a page of the account. An admin
// who must set up two-step sign-in before the console opens comes here
// from the login page with the login's mfa_token (mfa-token.js) in place
// of a session: every call carries it, the confirmation signs them in, and
// a passkey will do instead of the app.
import './i18n-mfa.js';
import { startPage, requireSession, withoutSession, bindForm, call, showError, formValues, el, paths, realm } from './api.js';
import { translate } from './i18n.js';
import { keptToken, dropToken } from './mfa-token.js';
import { showCodes } from './recovery-codes.js';
import { register, supported } from './passkeys.js';

const handoff = keptToken(realm);
if (handoff) withoutSession();
startPage();

const enroll = document.querySelector('[data-enroll]');
const form = document.querySelector('form[data-form="mfa-enroll"]');
const passkey = document.querySelector('[data-action="add-passkey"]');
const extra = handoff ? { mfa_token: handoff.token } : {};
document.querySelector('[data-required]').hidden = !handoff;
document.querySelector('[data-back]').hidden = !!handoff;
document.querySelector('[data-passkey-instead]').hidden = !handoff || !supported;

/** Onwards: the console for an admin who just signed in, else the account. */
function leavePage(notice) {
  location.replace(handoff ? handoff.next || paths.home : paths.account + '?notice=' + notice);
}

/** A factor is set up (answer: the API's, with recovery_codes when it was the first). */
function finished(answer, notice) {
  dropToken(realm);
  if (!answer.recovery_codes) return leavePage(notice);
  enroll.hidden = true;
  document.querySelector('[data-back]').hidden = true; // the codes are the one way on
  showCodes(answer.recovery_codes, () => leavePage(notice));
}

/** After an error is shown: an expired sign-in can only start again. */
function failed(err) {
  if (err.code !== 'invalid_token') return;
  dropToken(realm);
  const link = el('a', 'mfa-enroll.sign_in_again');
  link.href = paths.login;
  const p = el('p');
  p.append(link);
  document.querySelector('.error-summary').append(p);
}

const qrAttributes = {
  svg: ['xmlns', 'viewBox', 'role', 'aria-labelledby', 'shape-rendering'],
  title: ['id'],
  rect: ['width', 'height', 'fill'],
  path: ['fill', 'd'],
};

/**
 * The API's QR code, our own SVG (a title, a background, one path of
 * squares), parsed as SVG and taken only when it holds nothing but those
 * elements and attributes: no script, style, link or handler can come in
 * with it, whatever the string says. null otherwise (the key's text is
 * beside it).
 */
function qrCode(text) {
  const svg = new DOMParser().parseFromString(text, 'image/svg+xml').documentElement;
  for (const e of [svg, ...svg.querySelectorAll('*')]) {
    const allowed = qrAttributes[e.localName];
    if (!(e instanceof SVGElement) || !allowed || [...e.attributes].some((a) => !allowed.includes(a.name))) return null;
  }
  const node = document.importNode(svg, true);
  const title = node.querySelector('title');
  if (title) title.dataset.i18n = 'mfa-enroll.qr_title';
  return node;
}

async function start() {
  if (!handoff) await requireSession();
  const key = await call('POST', paths.api + '/mfa/totp', extra);
  const qr = qrCode(key.qr_svg);
  if (qr) {
    document.querySelector('[data-qr]').append(qr);
    translate(qr);
  }
  // In groups of four, as apps show keys; they ignore the spaces.
  document.querySelector('[data-secret]').textContent = key.secret.match(/.{1,4}/g).join(' ');
  form.elements.id.value = key.id;
}

bindForm(form, {
  values: (f) => ({ ...formValues(f), ...extra }),
  done: (answer) => finished(answer, 'authenticator_added'),
  failed,
});

passkey.addEventListener('click', async () => {
  passkey.disabled = true;
  try {
    finished(await register(extra), 'passkey_added');
  } catch (err) {
    showError(err, form);
    failed(err);
  } finally {
    passkey.disabled = false;
  }
});

start().catch((err) => {
  if (err.status === 401 && !handoff) return; // api.js goes to the login page
  showError(err, form);
  failed(err);
});
