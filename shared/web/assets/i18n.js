// i18n.js: every text the pages show, in English and Filipino side by side,
// and the language switch (select[name="lang"], remembered in this browser,
// sets <html lang>). The HTML carries the English text, so a page reads
// before its script runs; an element with data-i18n="key" (and
// data-i18n-vars='{"n":1}') gets the text of the chosen language, an
// element with data-i18n-date="<ISO time>" a date in its format.
const text = {
  // The layout: header, footer, titles.
  'layout.skip': ['Skip to main content', 'Lumaktaw sa pangunahing nilalaman'],
  'layout.language': ['Language', 'Wika'],
  'layout.sign_out': ['Sign out', 'Mag-sign out'],
  'layout.footer': ['E-KOLEK · City Environment and Natural Resources Office', 'E-KOLEK · Tanggapan ng Kapaligiran at Likas na Yaman ng Lungsod'],
  'realm.resident': ['Resident portal', 'Portal ng residente'],
  'realm.admin': ['Admin console', 'Console ng admin'],
  'not-found.title': ['Page not found', 'Hindi makita ang pahina'],
  'not-found.lead': ['If you typed the web address, check it is correct. If you pasted it, check you copied all of it.', 'Kung tinipa mo ang web address, tingnan kung tama ito. Kung idinikit mo, tingnan kung nakopya mo ang lahat.'],
  'not-found.home': ['Go to the E-KOLEK home page', 'Pumunta sa home page ng E-KOLEK'],

  // Signing in.
  'login.title': ['Sign in', 'Mag-sign in'],
  'login.identifier': ['Email address or mobile number', 'Email address o mobile number'],
  'login.password': ['Password', 'Password'],
  'login.remember': ['Keep me signed in on this device', 'Manatiling naka-sign in sa device na ito'],
  'login.remember_hint': ['Only on your own phone or computer. On a shared computer, leave this unticked: closing the browser signs you out.', 'Sa sarili mong phone o computer lamang. Sa computer na ginagamit ng iba, huwag itong lagyan ng tsek: kapag isinara ang browser, masa-sign out ka.'],
  'login.submit': ['Sign in', 'Mag-sign in'],
  'login.passkey': ['Sign in with a passkey', 'Mag-sign in gamit ang passkey'],
  'login.forgot': ['Forgot your password?', 'Nakalimutan ang password?'],
  'login.new_title': ['New to E-KOLEK?', 'Bago sa E-KOLEK?'],
  'login.register': ['Register as a resident', 'Magparehistro bilang residente'],
  'login.pending_verify': ['Meanwhile, check your email address and mobile number', 'Habang naghihintay, kumpirmahin ang iyong email address at mobile number'],
  'admin-login.title': ['Sign in to the admin console', 'Mag-sign in sa console ng admin'],
  'admin-login.identifier': ['Username or email address', 'Username o email address'],
  'admin-login.reset': ['Forgot your password, or invited as a new admin?', 'Nakalimutan ang password, o inimbitahan bilang bagong admin?'],
  'admin-login.shared_hint': ['Closing the browser signs you out, so a shared computer does not stay signed in.', 'Kapag isinara ang browser, masa-sign out ka, kaya hindi maiiwang naka-sign in ang computer na ginagamit ng iba.'],

  // Registering.
  'register.title': ['Register as a resident', 'Magparehistro bilang residente'],
  'register.lead': ['The environment office checks every registration. You can sign in once it is approved.', 'Sinusuri ng tanggapang pangkapaligiran ang bawat pagpaparehistro. Makakapag-sign in ka kapag naaprubahan na ito.'],
  'register.first_name': ['First name', 'Pangalan'],
  'register.last_name': ['Last name', 'Apelyido'],
  'register.email': ['Email address', 'Email address'],
  'register.email_hint': ['We send a code to check it.', 'Magpapadala kami ng code para kumpirmahin ito.'],
  'register.phone': ['Mobile number', 'Mobile number'],
  'register.phone_hint': ['For example 0917 123 4567. We send a code by text message.', 'Halimbawa: 0917 123 4567. Magpapadala kami ng code sa text.'],
  'register.barangay': ['Barangay', 'Barangay'],
  'register.barangay_choose': ['Choose your barangay', 'Piliin ang iyong barangay'],
  'register.password': ['Create a password', 'Gumawa ng password'],
  'register.password_hint': ['At least 12 characters. A few unrelated words are easy to remember and hard to guess. Do not use your name, email or number.', 'Hindi bababa sa 12 character. Ang ilang salitang walang kaugnayan sa isa’t isa ay madaling tandaan at mahirap hulaan. Huwag gamitin ang iyong pangalan, email o numero.'],
  'register.count_short': ['{n} characters: {left} more needed', '{n} character: kulang pa ng {left}'],
  'register.count_long': ['{n} characters: at most 128', '{n} character: hanggang 128 lamang'],
  'register.count_ok': ['{n} characters', '{n} character'],
  'register.submit': ['Register', 'Magparehistro'],
  'register.have_account': ['Already registered?', 'Nakapagparehistro na?'],
  'register.sign_in': ['Sign in', 'Mag-sign in'],

  // Checking a contact.
  'verify.title': ['Enter the code we sent you', 'Ilagay ang code na ipinadala namin'],
  'verify.lead': ['We sent a 6-digit code to your email address and your mobile number. Enter one at a time. A code works for 10 minutes.', 'Nagpadala kami ng 6 na digit na code sa iyong email address at mobile number. Ilagay ang mga ito nang isa-isa. Gumagana ang code nang 10 minuto.'],
  'verify.identifier': ['Email address or mobile number the code went to', 'Email address o mobile number na pinadalhan ng code'],
  'verify.code': ['Code', 'Code'],
  'verify.submit': ['Check the code', 'Suriin ang code'],
  'verify.no_code': ['No code, or did it expire?', 'Walang dumating na code, o nag-expire na?'],
  'verify.resend': ['Send a new code', 'Magpadala ng bagong code'],
  'verify.resend_wait': ['Send a new code (in {seconds} s)', 'Magpadala ng bagong code (sa loob ng {seconds} s)'],
  'verify.done_title': ['Thank you', 'Salamat'],
  'verify.done': ['The environment office will check your registration. You can sign in once it is approved.', 'Susuriin ng tanggapang pangkapaligiran ang iyong pagpaparehistro. Makakapag-sign in ka kapag naaprubahan na ito.'],
  'verify.sign_in': ['Go to sign in', 'Pumunta sa pag-sign in'],
  'verify.back': ['Back to your account', 'Bumalik sa iyong account'],

  // Resetting a password.
  'reset.title': ['Reset your password', 'I-reset ang iyong password'],
  'reset.step1': ['Step 1 of 3', 'Hakbang 1 sa 3'],
  'reset.step2': ['Step 2 of 3', 'Hakbang 2 sa 3'],
  'reset.step3': ['Step 3 of 3', 'Hakbang 3 sa 3'],
  'reset.identifier': ['Email address or mobile number', 'Email address o mobile number'],
  'reset.channel': ['Where should we send the code?', 'Saan namin ipapadala ang code?'],
  'reset.channel_email': ['By email', 'Sa email'],
  'reset.channel_sms': ['By text message (only to a checked mobile number)', 'Sa text (sa nakumpirmang mobile number lamang)'],
  'reset.send': ['Send the code', 'Ipadala ang code'],
  'reset.code_title': ['Enter the code', 'Ilagay ang code'],
  'reset.code_lead': ['If an account has that email address or mobile number, a 6-digit code is on its way. It works for 10 minutes.', 'Kung may account na may ganitong email address o mobile number, may 6 na digit na code na papunta na. Gumagana ito nang 10 minuto.'],
  'reset.again': ['Start again with another email address or number', 'Magsimula muli gamit ang ibang email address o numero'],
  'reset.new_title': ['Choose a new password', 'Pumili ng bagong password'],
  'reset.new_password': ['New password', 'Bagong password'],
  'reset.save': ['Save the new password', 'I-save ang bagong password'],

  // My account, both realms.
  'account.title': ['Your account', 'Ang iyong account'],
  'admin-account.title': ['Your admin account', 'Ang iyong admin account'],
  'account.name': ['Name', 'Pangalan'],
  'account.full_name': ['Full name', 'Buong pangalan'],
  'account.username': ['Username', 'Username'],
  'account.email': ['Email address', 'Email address'],
  'account.phone': ['Mobile number', 'Mobile number'],
  'account.barangay': ['Barangay', 'Barangay'],
  'account.barangays': ['Barangays', 'Mga barangay'],
  'account.role': ['Role', 'Tungkulin'],
  'account.verified': ['Verified', 'Nakumpirma'],
  'account.not_verified': ['Not verified', 'Hindi pa nakumpirma'],
  'account.verify': ['Verify it', 'Kumpirmahin'],
  'account.devices': ['Where you are signed in', 'Kung saan ka naka-sign in'],
  'account.devices_hint': ['If you do not recognise a device, sign it out and change your password.', 'Kung hindi mo kilala ang isang device, i-sign out ito at palitan ang iyong password.'],
  'account.this_device': ['This device', 'Ang device na ito'],
  'account.signed_in': ['Signed in', 'Nag-sign in'],
  'account.last_active': ['last active', 'huling ginamit'],
  'account.ip': ['IP address {ip}', 'IP address {ip}'],
  'account.revoke': ['Sign out this device', 'I-sign out ang device na ito'],
  'account.revoke_others': ['Sign out all other devices', 'I-sign out ang lahat ng ibang device'],
  'account.password_title': ['Change your password', 'Palitan ang iyong password'],
  'account.current_password': ['Current password', 'Kasalukuyang password'],
  'account.password_effect': ['Your other devices will be signed out; this one stays signed in.', 'Masa-sign out ang iba mong device; mananatiling naka-sign in ang isang ito.'],
  'account.password_save': ['Change password', 'Palitan ang password'],
  'device.on': ['{browser} on {os}', '{browser} sa {os}'],
  'device.one': ['{name}', '{name}'],
  'device.unknown': ['Unknown device', 'Hindi kilalang device'],
  'status.approved': ['Your account is approved', 'Aprubado ang iyong account'],
  'status.approved_text': ['You can use every E-KOLEK service.', 'Magagamit mo ang lahat ng serbisyo ng E-KOLEK.'],
  'status.pending': ['Your registration is waiting for approval', 'Naghihintay ng pag-apruba ang iyong pagpaparehistro'],
  'status.pending_text': ['The environment office checks every registration.', 'Sinusuri ng tanggapang pangkapaligiran ang bawat pagpaparehistro.'],
  'status.rejected': ['Your registration was not approved', 'Hindi naaprubahan ang iyong pagpaparehistro'],
  'status.rejected_text': ['Contact the environment office to find out why.', 'Makipag-ugnayan sa tanggapang pangkapaligiran para malaman kung bakit.'],
  'status.suspended': ['Your account is suspended', 'Suspendido ang iyong account'],
  'status.suspended_text': ['Contact the environment office.', 'Makipag-ugnayan sa tanggapang pangkapaligiran.'],
  'status.active': ['Active', 'Aktibo'],
  'role.super_admin': ['Super admin', 'Super admin'],
  'role.operations_manager': ['Operations manager', 'Tagapamahala ng operasyon'],
  'role.content_rewards_manager': ['Content and rewards manager', 'Tagapamahala ng nilalaman at gantimpala'],
  'role.security_analyst': ['Security analyst', 'Security analyst'],

  // Notices: what just happened.
  'notice.signed_out': ['You are signed out.', 'Naka-sign out ka na.'],
  'notice.session_expired': ['You were signed out because you were away for a while. Sign in again to continue.', 'Na-sign out ka dahil matagal kang hindi aktibo. Mag-sign in muli para magpatuloy.'],
  'notice.sign_in': ['Sign in to continue.', 'Mag-sign in para magpatuloy.'],
  'notice.password_reset': ['Your password has been reset. Your other devices were signed out.', 'Na-reset na ang iyong password. Na-sign out ang iba mong device.'],
  'notice.password_set': ['Your password is set. Sign in with your username and your new password.', 'Naitakda na ang iyong password. Mag-sign in gamit ang iyong username at bagong password.'],
  'notice.password_changed': ['Your password has been changed. Your other devices were signed out.', 'Napalitan na ang iyong password. Na-sign out ang iba mong device.'],
  'notice.registered': ['You are registered. Check your email address and mobile number with the codes we sent.', 'Nakarehistro ka na. Kumpirmahin ang iyong email address at mobile number gamit ang mga code na ipinadala namin.'],
  'notice.contact_verified': ['Checked. Thank you.', 'Nakumpirma na. Salamat.'],
  'notice.contact_verified_next': ['Checked. Now enter the code sent to {contact}.', 'Nakumpirma na. Ngayon, ilagay ang code na ipinadala sa {contact}.'],
  'notice.code_sent': ['A new code is on its way.', 'Papunta na ang bagong code.'],
  'notice.device_signed_out': ['That device is signed out.', 'Na-sign out na ang device na iyon.'],
  'notice.others_signed_out': ['Your other devices are signed out ({count}).', 'Na-sign out na ang iba mong device ({count}).'],

  // Errors: the summary, and the API's error codes.
  'error.title': ['There is a problem', 'May problema'],
  'error.prefix': ['Error:', 'Error:'],
  'error.unknown': ['Something went wrong. Try again.', 'May nangyaring mali. Subukang muli.'],
  'error.network': ['We could not reach E-KOLEK. Check your connection and try again.', 'Hindi namin maabot ang E-KOLEK. Tingnan ang iyong koneksyon at subukang muli.'],
  'error.invalid_request': ['Check the details you entered.', 'Suriin ang mga detalyeng inilagay mo.'],
  'error.invalid_credentials': ['The email address or mobile number, or the password, is not right.', 'Mali ang email address o mobile number, o ang password.'],
  'error.invalid_credentials.admin': ['The username or email address, or the password, is not right.', 'Mali ang username o email address, o ang password.'],
  'error.account_pending': ['Your registration is waiting for approval by the environment office.', 'Naghihintay pa ng pag-apruba ng tanggapang pangkapaligiran ang iyong pagpaparehistro.'],
  'error.account_rejected': ['Your registration was not approved. Contact the environment office.', 'Hindi naaprubahan ang iyong pagpaparehistro. Makipag-ugnayan sa tanggapang pangkapaligiran.'],
  'error.account_suspended': ['This account is suspended. Contact the environment office.', 'Suspendido ang account na ito. Makipag-ugnayan sa tanggapang pangkapaligiran.'],
  'error.too_many_attempts': ['Too many tries. Wait {minutes} minutes, then try again.', 'Masyadong maraming subok. Maghintay ng {minutes} minuto, saka subukang muli.'],
  'error.rate_limited': ['Too many requests from here. Wait {minutes} minutes, then try again.', 'Masyadong maraming kahilingan mula rito. Maghintay ng {minutes} minuto, saka subukang muli.'],
  'error.unauthenticated': ['You are not signed in.', 'Hindi ka naka-sign in.'],
  'error.session_expired': ['You were away for a while, so you were signed out.', 'Matagal kang hindi aktibo, kaya na-sign out ka.'],
  'error.csrf_failed': ['This page is out of date. Reload it and try again.', 'Luma na ang pahinang ito. I-reload ito at subukang muli.'],
  'error.forbidden': ['You are not allowed to do this.', 'Hindi ka pinapayagang gawin ito.'],
  'error.not_found': ['We could not find that. It may have been removed.', 'Hindi namin ito makita. Maaaring inalis na ito.'],
  'error.method_not_allowed': ['That cannot be done here.', 'Hindi iyan magagawa rito.'],
  'error.already_registered': ['An account with this email address or mobile number already exists. Sign in, or reset your password.', 'May account na gamit ang email address o mobile number na ito. Mag-sign in, o i-reset ang iyong password.'],
  'error.weak_password': ['Choose a longer or less guessable password.', 'Pumili ng mas mahaba o mas mahirap hulaang password.'],
  'error.invalid_code': ['The code is wrong, expired or already used. Check it, or send a new one.', 'Mali, nag-expire o nagamit na ang code. Suriin ito, o magpadala ng bago.'],
  'error.invalid_token': ['This reset has expired or was already used. Start again.', 'Nag-expire na o nagamit na ang reset na ito. Magsimula muli.'],
  'error.invalid_status_transition': ['That change is not possible from the account’s current status.', 'Hindi posible ang pagbabagong iyan mula sa kasalukuyang status ng account.'],
  'error.last_super_admin': ['The last active super admin cannot be demoted or suspended.', 'Hindi maaaring ibaba o suspendihin ang huling aktibong super admin.'],
  'error.cannot_change_self': ['You cannot change your own role or status. Ask another super admin.', 'Hindi mo mapapalitan ang sarili mong tungkulin o status. Humingi ng tulong sa ibang super admin.'],
  'error.reauth_required': ['Confirm your password first, then try again.', 'Kumpirmahin muna ang iyong password, saka subukang muli.'],
  'error.last_factor': ['This is your only second factor and your account must have one. Add another before you remove it.', 'Ito lamang ang iyong pangalawang patunay at kailangan ito ng iyong account. Magdagdag muna ng iba bago ito alisin.'],
  'error.no_factor': ['Add a second factor first.', 'Magdagdag muna ng pangalawang patunay.'],
  'error.invalid_credential': ['Your passkey’s answer was not accepted. Try again, or use another way to sign in.', 'Hindi tinanggap ang sagot ng iyong passkey. Subukang muli, o gumamit ng ibang paraan ng pag-sign in.'],
  'error.conflict': ['Someone changed this at the same time. Reload and try again.', 'May ibang nagbago nito nang sabay. I-reload at subukang muli.'],
  'error.payload_too_large': ['What you entered is too long.', 'Masyadong mahaba ang inilagay mo.'],
  'error.unsupported_media_type': ['This page is out of date. Reload it and try again.', 'Luma na ang pahinang ito. I-reload ito at subukang muli.'],
  'error.unavailable': ['E-KOLEK is busy. Nothing was changed. Try again in a moment.', 'Abala ang E-KOLEK. Walang nabago. Subukang muli maya-maya.'],
  'error.outcome_unknown': ['We could not tell whether that was saved. Check before you try again (signing in or registering again is safe).', 'Hindi namin matiyak kung na-save iyon. Tingnan muna bago subukang muli (ligtas ang muling pag-sign in o pagpaparehistro).'],
  'error.internal': ['Something went wrong on our side. Try again later.', 'May nangyaring mali sa aming panig. Subukang muli mamaya.'],
  'error.headers_too_large': ['Something went wrong. Try again.', 'May nangyaring mali. Subukang muli.'],
  'error.not_implemented': ['Something went wrong. Try again.', 'May nangyaring mali. Subukang muli.'],
  'error.http_version_not_supported': ['Something went wrong. Try again.', 'May nangyaring mali. Subukang muli.'],
  'error.expectation_failed': ['Something went wrong. Try again.', 'May nangyaring mali. Subukang muli.'],

  // Fields: beside each input and in the summary.
  'field.invalid': ['Check this answer.', 'Suriin ang sagot na ito.'],
  'field.identifier.required': ['Enter your email address or mobile number.', 'Ilagay ang iyong email address o mobile number.'],
  'field.identifier.invalid': ['Enter a shorter email address or mobile number.', 'Maglagay ng mas maikling email address o mobile number.'],
  'field.password.required': ['Enter a password.', 'Maglagay ng password.'],
  'field.password.invalid': ['Check the password.', 'Suriin ang password.'],
  'field.first_name.required': ['Enter your first name.', 'Ilagay ang iyong pangalan.'],
  'field.first_name.invalid': ['Enter your first name in letters, at most 100.', 'Ilagay ang iyong pangalan sa mga titik, hanggang 100.'],
  'field.last_name.required': ['Enter your last name.', 'Ilagay ang iyong apelyido.'],
  'field.last_name.invalid': ['Enter your last name in letters, at most 100.', 'Ilagay ang iyong apelyido sa mga titik, hanggang 100.'],
  'field.email.required': ['Enter your email address.', 'Ilagay ang iyong email address.'],
  'field.email.invalid': ['Enter an email address like name@example.com.', 'Maglagay ng email address na tulad ng pangalan@example.com.'],
  'field.phone.required': ['Enter your mobile number.', 'Ilagay ang iyong mobile number.'],
  'field.phone.invalid': ['Enter a Philippine mobile number, like 0917 123 4567.', 'Maglagay ng mobile number sa Pilipinas, tulad ng 0917 123 4567.'],
  'field.barangay.required': ['Choose your barangay.', 'Piliin ang iyong barangay.'],
  'field.barangay.invalid': ['Choose your barangay from the list.', 'Piliin ang iyong barangay mula sa listahan.'],
  'field.code.required': ['Enter the 6-digit code.', 'Ilagay ang 6 na digit na code.'],
  'field.code.invalid': ['Enter the 6 digits of the code.', 'Ilagay ang 6 na digit ng code.'],
  'field.channel.required': ['Choose email or text message.', 'Pumili ng email o text.'],
  'field.channel.invalid': ['Choose email or text message.', 'Pumili ng email o text.'],
  'field.new_password.required': ['Enter a new password.', 'Maglagay ng bagong password.'],
  'field.new_password.invalid': ['Check the new password.', 'Suriin ang bagong password.'],
  'field.current_password.required': ['Enter your current password.', 'Ilagay ang iyong kasalukuyang password.'],
  'field.current_password.invalid': ['Check your current password.', 'Suriin ang iyong kasalukuyang password.'],
  'field.current_password.wrong': ['Your current password is not right.', 'Mali ang iyong kasalukuyang password.'],
  'field.reset_token.required': ['Start the reset again.', 'Simulan muli ang pag-reset.'],
  'field.reset_token.invalid': ['Start the reset again.', 'Simulan muli ang pag-reset.'],
  'field.remember.invalid': ['Reload the page and try again.', 'I-reload ang pahina at subukang muli.'],

  // Why a password was refused (the API's reasons).
  'reason.too_short': ['It has fewer than 12 characters.', 'Kulang ito sa 12 character.'],
  'reason.too_long': ['It has more than 128 characters.', 'Lampas ito sa 128 character.'],
  'reason.too_guessable': ['It would be easy to guess.', 'Madali itong mahulaan.'],
  'reason.contains_personal_info': ['It contains your name, email address or number.', 'Naglalaman ito ng iyong pangalan, email address o numero.'],
  'reason.common_password': ['It uses common passwords or words.', 'Gumagamit ito ng karaniwang password o salita.'],
  'reason.sequence_or_repeat': ['It has sequences or repeats, like abc or 1111.', 'May sunud-sunod o inuulit ito, tulad ng abc o 1111.'],
  'reason.keyboard_pattern': ['It follows keys next to each other, like qwerty.', 'Sinusundan nito ang magkakatabing key, tulad ng qwerty.'],
  'reason.date': ['It contains a date.', 'May petsa ito.'],
};

const languages = ['en', 'fil'];
const storageKey = 'ekolek.lang';
let current = 'en';

/**
 * Adds a second table of the same format (the console's texts,
 * i18n-console.js): only the pages that import it download it.
 */
export function addTexts(more) {
  Object.assign(text, more);
}

/** The chosen language: "en" or "fil". */
export function lang() {
  return current;
}

/** The text of key in the chosen language, with {name} replaced from vars. */
export function t(key, vars) {
  const entry = text[key];
  if (!entry) return key;
  const s = entry[languages.indexOf(current)] || entry[0];
  return vars ? s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m)) : s;
}
t.has = (key) => key in text;

const dateFormat = {};
function formatDate(iso) {
  const locale = current === 'fil' ? 'fil-PH' : 'en-PH';
  dateFormat[locale] ||= new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
  const d = new Date(iso);
  return isNaN(d) ? iso : dateFormat[locale].format(d);
}

/** A <time> of iso shown in the chosen language (re-formatted when it changes). */
export function when(iso) {
  const e = document.createElement('time');
  e.dateTime = iso;
  e.dataset.i18nDate = iso;
  e.textContent = formatDate(iso);
  return e;
}

let titleError = false;

/** Marks the page's title as showing an error ("Error: Sign in – E-KOLEK"). */
export function setTitleError(on) {
  titleError = on;
  const title = document.querySelector('title');
  if (title) translate(title);
}

/** Puts the chosen language's texts into root and everything in it. */
export function translate(root = document) {
  const all = root.querySelectorAll ? [...root.querySelectorAll('[data-i18n], [data-i18n-date]')] : [];
  if (root.matches && root.matches('[data-i18n], [data-i18n-date]')) all.unshift(root);
  for (const el of all) {
    if (el.dataset.i18nDate) {
      el.textContent = formatDate(el.dataset.i18nDate);
      continue;
    }
    const vars = el.dataset.i18nVars ? JSON.parse(el.dataset.i18nVars) : undefined;
    el.textContent = t(el.dataset.i18n, vars);
    if (el.tagName === 'TITLE') el.textContent = (titleError ? t('error.prefix') + ' ' : '') + el.textContent + ' – E-KOLEK';
  }
}

function choose(l) {
  current = languages.includes(l) ? l : 'en';
  document.documentElement.lang = current;
  for (const select of document.querySelectorAll('select[name="lang"]')) select.value = current;
  translate(document);
}

/** Applies the remembered language and lets select[name="lang"] change it. */
export function startLanguage() {
  let saved = 'en';
  try {
    saved = localStorage.getItem(storageKey) || 'en';
  } catch {
    // No storage: English, and the choice lasts for this page only.
  }
  choose(saved);
  for (const select of document.querySelectorAll('select[name="lang"]')) {
    select.addEventListener('change', () => {
      choose(select.value);
      try {
        localStorage.setItem(storageKey, current);
      } catch {
        // As above.
      }
    });
  }
}
