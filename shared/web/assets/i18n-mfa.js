// i18n-mfa.js: the texts of two-step sign-in (the second step of a login,
// the factors on the account pages, enrolling an authenticator app,
// recovery codes), in the format of i18n.js (one line per text, English
// and Filipino side by side), in a module of their own: the account and
// enrollment pages import it, and the login pages only once a password
// was right and a second step follows, so /login stays light.
import { addTexts } from './i18n.js';

addTexts({
  // The second step of a login (both login pages).
  'mfa.title': ['Check it is you', 'Patunayan na ikaw ito'],
  'mfa.lead': ['Your password is right. Now use your second step.', 'Tama ang iyong password. Ngayon, gamitin ang iyong pangalawang hakbang.'],
  'mfa.code_totp': ['Code from your authenticator app', 'Code mula sa iyong authenticator app'],
  'mfa.code_totp_hint': ['Open the app and type the 6-digit code it shows for E-KOLEK. The code changes every 30 seconds.', 'Buksan ang app at i-type ang 6 na digit na code na ipinapakita nito para sa E-KOLEK. Nagbabago ang code bawat 30 segundo.'],
  'mfa.code_recovery': ['Recovery code', 'Recovery code'],
  'mfa.code_recovery_hint': ['One of the codes you saved when you set up two-step sign-in, like k7m2p-x9tq4. Each code works once.', 'Isa sa mga code na itinabi mo nang i-set up mo ang dalawang-hakbang na pag-sign in, tulad ng k7m2p-x9tq4. Isang beses lamang gumagana ang bawat code.'],
  'mfa.submit': ['Continue', 'Magpatuloy'],
  'mfa.other_ways': ['Other ways', 'Ibang paraan'],
  'mfa.use_recovery': ['Use a recovery code', 'Gumamit ng recovery code'],
  'mfa.use_totp': ['Use your authenticator app', 'Gamitin ang iyong authenticator app'],
  'mfa.use_passkey': ['Use a passkey', 'Gumamit ng passkey'],
  'mfa.start_again': ['Start again', 'Magsimula muli'],

  // Two-step sign-in on the account pages (both realms).
  'factors.title': ['Two-step sign-in', 'Dalawang-hakbang na pag-sign in'],
  'factors.lead': ['After your password, E-KOLEK also asks for a code from an app on your phone, or for a passkey. Then a stolen password alone cannot open your account.', 'Pagkatapos ng iyong password, hihingi rin ang E-KOLEK ng code mula sa app sa iyong phone, o ng passkey. Sa gayon, hindi mabubuksan ang iyong account ng ninakaw na password lamang.'],
  'factors.required': ['Admin accounts must keep at least one.', 'Dapat may kahit isa nito ang bawat admin account.'],
  'factors.none': ['You have not set it up yet.', 'Hindi mo pa ito na-set up.'],
  'factors.totp': ['Authenticator app', 'Authenticator app'],
  'factors.webauthn': ['Passkey', 'Passkey'],
  'factors.added': ['Added', 'Idinagdag'],
  'factors.last_used': ['last used', 'huling ginamit'],
  'factors.never_used': ['not used yet', 'hindi pa nagagamit'],
  'factors.rename': ['Rename', 'Palitan ang pangalan'],
  'factors.remove': ['Remove', 'Alisin'],
  'factors.name': ['Name', 'Pangalan'],
  'factors.name_hint': ['For example: My phone, or Office key. At most 64 characters.', 'Halimbawa: Aking phone, o Susi sa opisina. Hanggang 64 na character.'],
  'factors.name_save': ['Save the name', 'I-save ang pangalan'],
  'factors.cancel': ['Cancel', 'Kanselahin'],
  'factors.confirm_remove': ['Remove {name}?', 'Alisin ang {name}?'],
  'factors.remove_effect': ['You will no longer be able to sign in with it.', 'Hindi mo na ito magagamit sa pag-sign in.'],
  'factors.remove_yes': ['Remove it', 'Alisin ito'],
  'factors.keep': ['Keep it', 'Panatilihin ito'],
  'factors.add_totp': ['Set up an authenticator app', 'Mag-set up ng authenticator app'],
  'factors.add_passkey': ['Add a passkey', 'Magdagdag ng passkey'],
  'factors.passkey_hint': ['A passkey lets this phone or computer confirm it is you with its fingerprint, face or screen lock. It can also sign you in without your password.', 'Hinahayaan ng passkey na kumpirmahin ng phone o computer na ito na ikaw ito gamit ang fingerprint, mukha o screen lock nito. Makakapag-sign in ka rin dito nang walang password.'],
  'factors.recovery_left': ['Recovery codes left: {n} of 10.', 'Natitirang recovery code: {n} sa 10.'],
  'factors.new_codes': ['Make new recovery codes', 'Gumawa ng mga bagong recovery code'],
  'factors.new_codes_effect': ['Your old recovery codes will stop working.', 'Hindi na gagana ang mga luma mong recovery code.'],
  'factors.new_codes_yes': ['Make new codes', 'Gumawa ng bagong code'],

  // Asking for the password again before a change that needs it.
  'reauth.title': ['Enter your password to continue', 'Ilagay ang iyong password para magpatuloy'],
  'reauth.lead': ['For your safety, this change needs your password again.', 'Para sa iyong kaligtasan, kailangan muli ang iyong password sa pagbabagong ito.'],
  'reauth.password': ['Password', 'Password'],
  'reauth.submit': ['Confirm', 'Kumpirmahin'],

  // New recovery codes (the enrollment pages and the account pages).
  'recovery.title': ['Save your recovery codes', 'Itabi ang iyong mga recovery code'],
  'recovery.lead': ['If you lose your phone or passkey, each of these codes lets you sign in once. Keep them somewhere safe, away from this device: print them or write them down. You will not see them again.', 'Kung mawala ang iyong phone o passkey, bawat isa sa mga code na ito ay makapagpapa-sign in sa iyo nang isang beses. Itabi ang mga ito sa ligtas na lugar, malayo sa device na ito: i-print o isulat. Hindi mo na makikita muli ang mga ito.'],
  'recovery.copy': ['Copy the codes', 'Kopyahin ang mga code'],
  'recovery.download': ['Download as a text file', 'I-download bilang text file'],
  'recovery.copied': ['The codes are copied.', 'Nakopya na ang mga code.'],
  'recovery.copy_failed': ['They could not be copied. Select the codes and copy them yourself.', 'Hindi makopya ang mga ito. Piliin ang mga code at kopyahin nang mano-mano.'],
  'recovery.continue': ['I have saved my codes', 'Naitabi ko na ang aking mga code'],
  'recovery.file_title': ['E-KOLEK recovery codes, made {date}', 'Mga recovery code ng E-KOLEK, ginawa noong {date}'],
  'recovery.file_lead': ['Each code signs you in once, in place of your authenticator app or passkey.', 'Bawat code ay makapagpapa-sign in sa iyo nang isang beses, kapalit ng iyong authenticator app o passkey.'],

  // Enrolling an authenticator app (both realms).
  'mfa-enroll.title': ['Set up an authenticator app', 'Mag-set up ng authenticator app'],
  'admin-mfa-enroll.title': ['Set up an authenticator app', 'Mag-set up ng authenticator app'],
  'mfa-enroll.required': ['Admin accounts need two-step sign-in before the console opens. Set it up now: it takes a minute.', 'Kailangan ng dalawang-hakbang na pag-sign in ang mga admin account bago magbukas ang console. I-set up ito ngayon: isang minuto lamang ito.'],
  'mfa-enroll.step1': ['Install an authenticator app on your phone if you do not have one. Any app for 6-digit sign-in codes works.', 'Mag-install ng authenticator app sa iyong phone kung wala ka pa nito. Gagana ang anumang app para sa 6 na digit na sign-in code.'],
  'mfa-enroll.step2': ['In the app, add an account and scan this QR code.', 'Sa app, magdagdag ng account at i-scan ang QR code na ito.'],
  'mfa-enroll.qr_title': ['QR code for your authenticator app', 'QR code para sa iyong authenticator app'],
  'mfa-enroll.cannot_scan': ['Cannot scan it? Type this key into the app instead:', 'Hindi ma-scan? I-type na lang sa app ang key na ito:'],
  'mfa-enroll.step3': ['Type the code the app now shows.', 'I-type ang code na ipinapakita na ngayon ng app.'],
  'mfa-enroll.code': ['Code from the app', 'Code mula sa app'],
  'mfa-enroll.code_hint': ['6 digits. It changes every 30 seconds.', '6 na digit. Nagbabago ito bawat 30 segundo.'],
  'mfa-enroll.submit': ['Finish setting up', 'Tapusin ang pag-set up'],
  'mfa-enroll.passkey_title': ['Or use a passkey', 'O gumamit ng passkey'],
  'mfa-enroll.back': ['Back to your account', 'Bumalik sa iyong account'],
  'mfa-enroll.sign_in_again': ['Sign in again', 'Mag-sign in muli'],

  // What just happened.
  'notice.authenticator_added': ['Your authenticator app is set up. When you sign in, E-KOLEK will ask for a code from it.', 'Naka-set up na ang iyong authenticator app. Kapag nag-sign in ka, hihingi ang E-KOLEK ng code mula rito.'],
  'notice.passkey_added': ['Your passkey is added. You can sign in with it.', 'Naidagdag na ang iyong passkey. Makakapag-sign in ka na gamit ito.'],
  'notice.factor_removed': ['{name} is removed.', 'Inalis na ang {name}.'],
  'notice.factor_renamed': ['The name is saved.', 'Na-save na ang pangalan.'],

  // Errors where two-step sign-in needs its own words.
  'error.invalid_code.mfa': ['The code is not right, or it was already used. Check it and try again.', 'Mali ang code, o nagamit na ito. Suriin ito at subukang muli.'],
  'error.invalid_code.mfa-enroll': ['The code is not right. Type the code the app shows now.', 'Mali ang code. I-type ang code na ipinapakita ngayon ng app.'],
  'error.invalid_token.mfa': ['This sign-in has expired, was already used, or had too many wrong codes. Start again.', 'Nag-expire na, nagamit na, o nagkaroon ng napakaraming maling code ang pag-sign in na ito. Magsimula muli.'],
  'error.invalid_token.mfa-enroll': ['Your sign-in has expired. Sign in again to set up two-step sign-in.', 'Nag-expire na ang iyong pag-sign in. Mag-sign in muli para i-set up ang dalawang-hakbang na pag-sign in.'],
  'error.passkey_failed': ['The passkey was not used. Try again, or choose another way.', 'Hindi nagamit ang passkey. Subukang muli, o pumili ng ibang paraan.'],
  'error.passkey_exists': ['This device already has a passkey for your account.', 'May passkey na para sa iyong account ang device na ito.'],
  'field.name.invalid': ['Use at most 64 characters.', 'Gumamit ng hanggang 64 na character lamang.'],
  'field.password.wrong': ['The password is not right.', 'Mali ang password.'],
});
