// mfa-token.js: an admin who must set up two-step sign-in before the
// console opens signs in, and the login's mfa_token (in place of a session)
// goes with them from the login page to the enrollment page. It is kept in
// this tab's sessionStorage, never in the address (which the history,
// logs and Referer keep), and dropped once used; it lives 5 minutes anyway.
const key = (realm) => 'ekolek.mfa-token.' + realm;

/** Keeps the login's mfa_token for realm, and where to go once signed in. */
export function keepToken(realm, token, next) {
  try {
    sessionStorage.setItem(key(realm), JSON.stringify({ token, next }));
    return true;
  } catch {
    return false; // No storage: the enrollment page cannot have it.
  }
}

/** The kept {token, next} of realm, or null. */
export function keptToken(realm) {
  try {
    const v = JSON.parse(sessionStorage.getItem(key(realm)));
    return v && typeof v.token === 'string' ? v : null;
  } catch {
    return null;
  }
}

/** Forgets realm's mfa_token (used, or refused). */
export function dropToken(realm) {
  try {
    sessionStorage.removeItem(key(realm));
  } catch {
    // Nothing was kept.
  }
}
