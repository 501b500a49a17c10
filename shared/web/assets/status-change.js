// status-change.js: approve, reject, suspend or reactivate a resident, with
// a reason, confirmed in the page (no browser dialog): the action's button
// opens form[data-form="status-change"] in place; the API decides.
import { call, showNotice, showError, ApiError } from './api.js';
import { el, can, failed, closable } from './console.js';

/** The actions a resident's status allows (account.transitions). */
export const actionsOf = {
  pending: ['approve', 'reject'],
  approved: ['suspend'],
  rejected: ['approve'],
  suspended: ['reactivate'],
};

const warning = { reject: true, suspend: true };
let seq = 0;

/**
 * Fills box with the buttons of the actions resident r's status allows
 * (none without residents:manage); changed(account) runs after a change.
 */
export function actionButtons(box, r, changed) {
  box.replaceChildren();
  if (!can('residents:manage')) return;
  for (const action of actionsOf[r.status] || []) {
    const b = el('button', 'console.do.' + action, null, 'button ' + (warning[action] ? 'button--warning' : action === 'approve' || action === 'reactivate' ? '' : 'button--secondary'));
    b.type = 'button';
    b.dataset.action = action;
    b.setAttribute('aria-expanded', 'false');
    b.addEventListener('click', () => open(box, r, action, b, changed));
    box.append(b);
  }
}

function name(r) {
  return `${r.first_name} ${r.last_name}`;
}

/** Opens the confirmation form for action under box (one at a time). */
function open(box, r, action, button, changed) {
  document.querySelectorAll('form[data-form="status-change"]').forEach((f) => f.cancel());
  const id = 'reason-' + ++seq;
  const form = document.createElement('form');
  form.className = 'confirm';
  form.dataset.form = 'status-change';
  form.method = 'post';
  form.action = `/v1/admin/residents/${encodeURIComponent(r.id)}/${action}`;
  form.noValidate = true;
  const title = el('h3', 'console.confirm.' + action, { name: name(r) });
  title.tabIndex = -1;
  const field = el('div', null, null, 'field');
  const label = el('label', 'console.reason');
  label.htmlFor = id;
  const hint = el('p', 'console.reason_hint', null, 'hint');
  hint.id = id + '-hint';
  const input = document.createElement('textarea');
  input.id = id;
  input.name = 'reason';
  input.rows = 2;
  input.maxLength = 500;
  input.setAttribute('aria-describedby', hint.id);
  field.append(label, hint, input);
  const submit = el('button', 'console.do.' + action, null, 'button' + (warning[action] ? ' button--warning' : ''));
  submit.type = 'submit';
  const cancel = el('button', 'console.cancel', null, 'button button--secondary');
  cancel.type = 'button';
  cancel.dataset.action = 'cancel';
  const group = el('div', null, null, 'button-group');
  group.append(submit, cancel);
  form.append(title, el('p', 'console.effect.' + action), field, group);
  closable(form, button, cancel);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const reason = input.value.trim();
    if (!reason) {
      showError(new ApiError(400, { error: { code: 'invalid_request', fields: { reason: 'required' } } }), form);
      return;
    }
    submit.disabled = true;
    try {
      const answer = await call('POST', form.getAttribute('action'), { reason });
      form.remove();
      changed(answer.account);
      showNotice('resident_' + answer.account.status, { name: name(answer.account) });
    } catch (err) {
      submit.disabled = false;
      failed(err, form);
    }
  });
  box.after(form);
  button.setAttribute('aria-expanded', 'true');
  title.focus();
}
