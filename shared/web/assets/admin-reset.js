// admin-reset.js: the admin password reset and invitation acceptance
// (reset.js), with the console's texts.
import './i18n-console.js';
import './reset.js';
