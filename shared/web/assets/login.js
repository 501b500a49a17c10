// login.js: the login pages of both realms (data-page "login",
// "admin-login"): the password, then, for an account with two-step
// sign-in, its second step (mfa-login.js, loaded only then, so the page
// stays light); "Sign in with a passkey" where the browser can.
import { startPage, bindForm, call, nextPage, paths, realm, showError, ApiError } from './api.js';
import { translate } from './i18n.js';

startPage();

// Already signed in (another tab, or remembered): straight on.
call('GET', paths.api + '/session?peek=1').then(() => location.replace(nextPage()), () => {});

/** The second step's module; a failed load is a network error, shown. */
const mfa = () => import('./mfa-login.js').catch(() => {
  throw new ApiError(0, null, 0);
});

const form = document.querySelector('form[data-form="login"]');
bindForm(form, {
  done: (answer) => {
    if (answer.mfa_required || answer.mfa_enrollment_required) return mfa().then((m) => m.next(answer), showError);
    location.replace(nextPage());
  },
  failed: (err, sent) => {
    // A pending resident can still check their contacts meanwhile.
    if (realm !== 'resident' || err.code !== 'account_pending') return;
    const p = document.createElement('p');
    const a = document.createElement('a');
    a.href = '/verify?identifier=' + encodeURIComponent(sent.identifier);
    a.dataset.i18n = 'login.pending_verify';
    p.append(a);
    document.querySelector('.error-summary').append(p);
    translate(p);
  },
});

if (window.PublicKeyCredential) {
  const passkey = document.querySelector('[data-action="passkey"]');
  passkey.parentElement.hidden = false;
  passkey.addEventListener('click', () => mfa().then((m) => m.passkeySignIn(passkey), showError));
}
