// recovery-codes.js: a new set of recovery codes, shown once
// ([data-recovery-codes], one li each) with copy, download as a text file,
// and [data-action="continue"], the page's one main action while shown.
import { t, translate, lang } from './i18n.js';

const panel = document.querySelector('[data-recovery]');
const list = panel.querySelector('[data-recovery-codes]');
const status = panel.querySelector('[data-recovery-status]');
let codes = [];
let onContinue = () => {};

function say(key) {
  status.dataset.i18n = key;
  translate(status);
}

panel.querySelector('[data-action="copy-codes"]').addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText(codes.join('\n') + '\n');
    say('recovery.copied');
  } catch {
    say('recovery.copy_failed');
  }
});

panel.querySelector('[data-action="download-codes"]').addEventListener('click', () => {
  const date = new Date().toLocaleDateString(lang() === 'fil' ? 'fil-PH' : 'en-PH', { dateStyle: 'long' });
  const text = [t('recovery.file_title', { date }), t('recovery.file_lead'), '', ...codes, ''].join('\r\n');
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = 'e-kolek-recovery-codes.txt';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
});

panel.querySelector('[data-action="continue"]').addEventListener('click', () => {
  panel.hidden = true;
  list.replaceChildren();
  codes = [];
  onContinue();
});

/**
 * Shows the codes in place of what the page showed (hide those elements
 * first), focused; then() runs when the person says they saved them.
 */
export function showCodes(newCodes, then) {
  codes = newCodes;
  onContinue = then;
  list.replaceChildren(...codes.map((c) => {
    const li = document.createElement('li');
    li.textContent = c;
    return li;
  }));
  status.textContent = '';
  delete status.dataset.i18n;
  panel.hidden = false;
  panel.querySelector('h2').focus();
}
