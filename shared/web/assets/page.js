// page.js: a page with nothing of its own to do (the not-found page).
import { startPage } from './api.js';

startPage();
