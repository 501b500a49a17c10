// register.js: the registration page. The barangays come from the
// directory the API accepts; the password's length is counted as it is
// typed (the full policy is judged by the API on submit, with its reasons).
import { startPage, bindForm, call, showError } from './api.js';
import { translate } from './i18n.js';
import { remember } from './contacts.js';

startPage();

const form = document.querySelector('form[data-form="register"]');
const select = form.elements.barangay;
call('GET', '/v1/barangays').then(({ barangays }) => {
  for (const name of barangays) select.add(new Option(name, name));
}, (err) => showError(err, form));

const count = form.querySelector('[data-password-count]');
form.elements.password.addEventListener('input', () => {
  const n = [...form.elements.password.value].length;
  if (n === 0) {
    delete count.dataset.i18n;
    count.textContent = '';
    return;
  }
  count.dataset.i18n = n < 12 ? 'register.count_short' : n > 128 ? 'register.count_long' : 'register.count_ok';
  count.dataset.i18nVars = JSON.stringify({ n, left: 12 - n });
  translate(count);
});

bindForm(form, {
  done: (answer) => {
    remember([answer.account.email, answer.account.phone]);
    location.assign('/verify?notice=registered');
  },
});
