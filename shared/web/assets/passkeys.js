// passkeys.js: the passkey ceremonies with the API: options from the API,
// the browser's authenticator (webauthn.js), the answer back to the API.
// A ceremony the person cancels, or that the authenticator refuses, is an
// ApiError too (passkey_failed, passkey_exists), so pages show it like any
// other error.
import { call, paths, ApiError } from './api.js';
import { create, get } from './webauthn.js';
import { describe } from './device.js';

export { supported } from './webauthn.js';

/**
 * The API's options for a ceremony from path (with the body extra), run
 * by the browser's authenticator (ceremony: webauthn.js's create or get).
 */
async function answer(path, extra, ceremony) {
  const options = await call('POST', path, extra);
  try {
    return await ceremony(options);
  } catch (err) {
    // InvalidStateError: the authenticator already holds one of the
    // account's passkeys (the options exclude them).
    const code = err && err.name === 'InvalidStateError' ? 'passkey_exists' : 'passkey_failed';
    throw new ApiError(0, { error: { code } }, 0);
  }
}

/**
 * Registers a passkey of this device for the signed-in account (or, with
 * {mfa_token}, for the admin signing in): resolves to the API's answer,
 * {factor, recovery_codes?}. It is named after the device ("Chrome on
 * Android"); the person can rename it.
 */
export async function register(extra = {}) {
  const credential = await answer(paths.api + '/mfa/webauthn/options', extra, create);
  const { browser, os } = describe(navigator.userAgent);
  const name = [browser, os].filter(Boolean).join(' on ');
  return call('POST', paths.api + '/mfa/webauthn', { ...extra, credential, name });
}

/**
 * Signs in with a passkey: with the mfa_token of a login whose password
 * was right, as its second step (which keeps that login's "keep me signed
 * in"); without one, by the passkey alone (a discoverable credential
 * names its account), remembered when remember is true. Resolves to the
 * login's answer; the session cookie is set.
 */
export async function signIn(mfaToken, remember) {
  const extra = mfaToken ? { mfa_token: mfaToken } : {};
  const credential = await answer(paths.api + '/login/webauthn/options', extra, get);
  return call('POST', paths.api + '/login/webauthn', { ...extra, credential, ...(remember ? { remember } : {}) });
}
