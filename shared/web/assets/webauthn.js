// webauthn.js: passkeys in the browser. The API speaks JSON, with binary
// values as base64url (go-webauthn's encoding); the browser's
// navigator.credentials speaks ArrayBuffers. This module converts both
// ways, and nothing else does. Pages import it only when a person asks
// for a passkey, so the login page does not carry it.

/** Whether this browser can use passkeys at all. */
export const supported = typeof window.PublicKeyCredential === 'function' && !!navigator.credentials;

/** base64url (padding optional) → ArrayBuffer. */
export function toBuffer(b64url) {
  const b64 = b64url.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(b64url.length / 4) * 4, '=');
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes.buffer;
}

/** ArrayBuffer (or a view of one) → base64url without padding. */
export function toBase64url(buf) {
  const bytes = buf instanceof ArrayBuffer ? new Uint8Array(buf) : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// The API's options: {publicKey: {...}} as go-webauthn writes them.
const publicKeyOf = (options) => ({ ...(options.publicKey || options) });
const descriptors = (list) => (list || []).map((c) => ({ ...c, id: toBuffer(c.id) }));

/** A credential as the API takes it: its binary fields in base64url, the response's as given. */
function credentialJSON(cred, response) {
  return {
    id: cred.id,
    rawId: toBase64url(cred.rawId),
    type: cred.type,
    authenticatorAttachment: cred.authenticatorAttachment || undefined,
    clientExtensionResults: cred.getClientExtensionResults(),
    response,
  };
}

/**
 * Registers a passkey: navigator.credentials.create with the API's
 * creation options; resolves to the credential as the API takes it.
 */
export async function create(options) {
  const pk = publicKeyOf(options);
  pk.challenge = toBuffer(pk.challenge);
  pk.user = { ...pk.user, id: toBuffer(pk.user.id) };
  pk.excludeCredentials = descriptors(pk.excludeCredentials);
  const cred = await navigator.credentials.create({ publicKey: pk });
  const r = cred.response;
  return credentialJSON(cred, {
    clientDataJSON: toBase64url(r.clientDataJSON),
    attestationObject: toBase64url(r.attestationObject),
    transports: typeof r.getTransports === 'function' ? r.getTransports() : [],
  });
}

/**
 * Signs in with a passkey: navigator.credentials.get with the API's
 * request options (no allowCredentials: any passkey of this site, a
 * discoverable credential naming its account); resolves to the assertion
 * as the API takes it.
 */
export async function get(options) {
  const pk = publicKeyOf(options);
  pk.challenge = toBuffer(pk.challenge);
  pk.allowCredentials = descriptors(pk.allowCredentials);
  const cred = await navigator.credentials.get({ publicKey: pk });
  const r = cred.response;
  return credentialJSON(cred, {
    clientDataJSON: toBase64url(r.clientDataJSON),
    authenticatorData: toBase64url(r.authenticatorData),
    signature: toBase64url(r.signature),
    userHandle: r.userHandle ? toBase64url(r.userHandle) : undefined,
  });
}
