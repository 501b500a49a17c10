// reset.js: a password reset in three steps of one page (request a code,
// check it, choose a new password), for the realm of the page. The browser
// that resets keeps its own sessions, so a signed-in person stays signed in.
// An admin invited by email starts at the code ("I have a code"): the same
// flow sets their first password.
import { startPage, bindForm, call, cooldown, showNotice, showError, paths } from './api.js';

startPage();

const step = (name) => document.querySelector(`[data-step="${name}"]`);
const form = (name) => document.querySelector(`form[data-form="${name}"]`);
const request = form('reset-request');
const verify = form('reset-verify');
const confirm = form('reset-confirm');
const resendButton = document.querySelector('[data-action="resend"]');
const wait = 60 * 1000;
let sent = null; // what the last request sent: {identifier, channel}
let invited = false; // came with a code ("I have a code")

function show(name) {
  for (const s of document.querySelectorAll('[data-step]')) s.hidden = s.dataset.step !== name;
  const heading = step(name).querySelector('h2');
  if (heading) heading.focus();
}

const given = new URLSearchParams(location.search).get('identifier');
if (given) request.elements.identifier.value = given;

bindForm(request, {
  done: (_, body) => {
    sent = body;
    verify.elements.identifier.value = body.identifier;
    show('verify');
    cooldown(resendButton, Date.now() + wait);
  },
});

document.querySelector('[data-action="have-code"]')?.addEventListener('click', () => {
  invited = true;
  verify.elements.identifier.value = request.elements.identifier.value.trim();
  show('verify');
});

resendButton.addEventListener('click', async () => {
  if (!sent) sent = { identifier: verify.elements.identifier.value.trim(), channel: 'email' };
  if (!sent.identifier) return;
  try {
    await call('POST', request.getAttribute('action'), sent);
  } catch (err) {
    showError(err, verify);
    return;
  }
  cooldown(resendButton, Date.now() + wait);
  showNotice('code_sent');
});

bindForm(verify, {
  done: (answer) => {
    confirm.elements.reset_token.value = answer.reset_token;
    show('confirm');
  },
});

bindForm(confirm, {
  done: async () => {
    confirm.elements.reset_token.value = '';
    let signedIn = false;
    try {
      await call('GET', paths.api + '/session?peek=1');
      signedIn = true;
    } catch {
      // Not signed in here: the login page is next.
    }
    location.assign((signedIn ? paths.home : paths.login) + '?notice=' + (invited ? 'password_set' : 'password_reset'));
  },
});
