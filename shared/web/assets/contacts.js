// contacts.js: what this tab remembers between registration and
// verification (sessionStorage, gone with the tab): the contacts to verify,
// which are done, and when a code last went to each, for the resend cooldown.
const key = 'ekolek.contacts';

function load() {
  try {
    const v = JSON.parse(sessionStorage.getItem(key));
    if (v && Array.isArray(v.contacts)) return v;
  } catch {
    // No storage (a private window may refuse it): nothing remembered.
  }
  return { contacts: [], done: [], sent: {} };
}

function save(v) {
  try {
    sessionStorage.setItem(key, JSON.stringify(v));
  } catch {
    // As above: the pages work without it, only less helpfully.
  }
}

/** After a registration: both contacts are to verify, and a code just went to each. */
export function remember(contacts) {
  const now = Date.now();
  save({ contacts, done: [], sent: Object.fromEntries(contacts.map((c) => [c, now])) });
}

/** The first contact not yet verified, or "". */
export function nextContact() {
  const v = load();
  return v.contacts.find((c) => !v.done.includes(c)) || '';
}

export function markDone(contact) {
  const v = load();
  if (!v.done.includes(contact)) v.done.push(contact);
  save(v);
}

export function markSent(contact) {
  const v = load();
  v.sent[contact] = Date.now();
  save(v);
}

/** When a code last went to contact from this tab (0: never). */
export function sentAt(contact) {
  return load().sent[contact] || 0;
}
