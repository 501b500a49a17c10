// admin-mfa-enroll.js: setting up an authenticator app (mfa-enroll.js)
// inside the console (navigation by role, the idle warning), or at an
// admin's first sign-in, before the console opens.
import './console.js';
import './mfa-enroll.js';
