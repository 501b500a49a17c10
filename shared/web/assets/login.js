// login.js: the login pages of both realms (data-page "login", "admin-login").
import { startPage, bindForm, call, nextPage, paths, realm } from './api.js';
import { translate } from './i18n.js';

startPage();

// Already signed in (another tab, or remembered): straight on.
call('GET', paths.api + '/session?peek=1').then(() => location.replace(nextPage()), () => {});

const form = document.querySelector('form[data-form="login"]');
bindForm(form, {
  done: () => location.replace(nextPage()),
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
