// verify.js: checks one contact (email or mobile number) at a time with the
// code sent to it; after a registration, the next one follows. A new code
// can be asked for once a minute (the API's cooldown), counted down.
import { startPage, bindForm, call, cooldown, showNotice } from './api.js';
import { nextContact, markDone, markSent, sentAt } from './contacts.js';
import { translate } from './i18n.js';

startPage();

const form = document.querySelector('form[data-form="verify"]');
const resend = document.querySelector('form[data-form="resend"]');
const resendButton = resend.querySelector('[data-cooldown]');
const wait = 60 * 1000;

function use(contact) {
  form.elements.identifier.value = contact;
  resend.elements.identifier.value = contact;
  const sent = sentAt(contact);
  if (sent && Date.now() - sent < wait) cooldown(resendButton, sent + wait);
}
use(new URLSearchParams(location.search).get('identifier') || nextContact());
form.elements.identifier.addEventListener('input', () => {
  resend.elements.identifier.value = form.elements.identifier.value.trim();
});

// Signed in (from the account page): the way back is the account.
call('GET', '/v1/resident/session?peek=1').then(() => {
  const back = document.querySelector('[data-verify-done] a');
  back.href = '/account';
  back.dataset.i18n = 'verify.back';
  translate(back);
}, () => {});

bindForm(form, {
  done: (_, sent) => {
    markDone(sent.identifier);
    form.elements.code.value = '';
    const next = nextContact();
    if (next && next !== sent.identifier) {
      use(next);
      showNotice('contact_verified_next', { contact: next });
      return;
    }
    form.hidden = true;
    resend.hidden = true;
    document.querySelector('[data-verify-lead]').hidden = true;
    document.querySelector('[data-verify-done]').hidden = false;
    showNotice('contact_verified');
  },
});

bindForm(resend, {
  values: () => ({ identifier: form.elements.identifier.value.trim() }),
  done: (_, sent) => {
    markSent(sent.identifier);
    cooldown(resendButton, Date.now() + wait);
    showNotice('code_sent');
  },
});
