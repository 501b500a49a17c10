// admin-account.js: the admin's own account (account.js) inside the console
// (navigation by role, the idle warning).
import './console.js';
import './account.js';
