// Shared by the patient and physician pages: calling the API with the session cookie, turning
// every error the API can return into a sentence a person can act on, the page's language, and
// small DOM helpers. No framework: the pages load these modules as they are; the build only writes
// the message catalogues static/i18n/LANG.json from po/LANG.po (docs/languages.md).

// ---- language ----

// Every text a person reads is written in English inside t('...'), which xgettext finds for
// po/portal.pot; {name} marks a value filled in. English needs no catalogue.
let catalogue = {};
let currentLanguage = 'en';

export const LANGUAGES = [['en', 'English'], ['es', 'Español'], ['fr', 'Français']];

function translate(messages, msgid, values) {
  const text = Object.prototype.hasOwnProperty.call(messages, msgid) ? messages[msgid] : msgid;
  return values ? text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m)) : text;
}

export function t(msgid, values) {
  return translate(catalogue, msgid, values);
}

// A whole sentence some of whose {name} values are elements (a <time>, a link, a <strong>):
// translated whole, as t() is, so that the translator places every value; then cut at each
// {name} into text and the value itself. Returns the pieces for el(). Scanned for po/portal.pot
// as t() is (scripts/po.sh).
export function tParts(msgid, values) {
  const text = translate(catalogue, msgid, null);
  const parts = [];
  let last = 0;
  for (const m of text.matchAll(/\{(\w+)\}/g)) {
    if (!(m[1] in values)) {
      continue;
    }
    parts.push(text.slice(last, m.index));
    const v = values[m[1]];
    parts.push(v instanceof Node ? v : String(v));
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return parts.filter((part) => part !== '');
}

// A translator for another language than the page's (the staff page prints an access code sheet in
// the patient's language): the same catalogues, the same {name} values. Resolves to
// { lang, t }; lang is 'en' when that language's catalogue could not be loaded.
export async function translatorFor(code) {
  let messages = {};
  let lang = LANGUAGES.some(([c]) => c === code) ? code : 'en';
  if (lang !== 'en') {
    try {
      const res = await fetch(`/i18n/${lang}.json`, { credentials: 'same-origin' });
      if (res.ok) {
        messages = await res.json();
      } else {
        lang = 'en';
      }
    } catch (e) {
      lang = 'en';
    }
  }
  return { lang, t: (msgid, values) => translate(messages, msgid, values) };
}

export function language() {
  return currentLanguage;
}

// The elements of the HTML marked data-i18n hold their English text (a msgid) and are translated
// in place; data-i18n-attr names attributes (aria-label, placeholder) translated likewise.
function translateDocument() {
  for (const node of document.querySelectorAll('[data-i18n]')) {
    node.textContent = t(node.textContent.trim().replace(/\s+/g, ' '));
  }
  for (const node of document.querySelectorAll('[data-i18n-attr]')) {
    for (const name of node.getAttribute('data-i18n-attr').split(' ')) {
      node.setAttribute(name, t(node.getAttribute(name)));
    }
  }
}

// Asks the server which language this visitor reads (their saved choice, else the browser's
// Accept-Language, else the site's), loads its catalogue and translates the page.
export async function loadLanguage() {
  let chosen = 'en';
  try {
    const res = await fetch('/api/v1/language', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (res.ok) {
      chosen = (await res.json()).language || 'en';
    }
  } catch (e) {
    chosen = 'en';
  }
  if (chosen !== 'en') {
    try {
      const res = await fetch(`/i18n/${chosen}.json`, { credentials: 'same-origin' });
      catalogue = res.ok ? await res.json() : {};
      if (!res.ok) {
        chosen = 'en';
      }
    } catch (e) {
      chosen = 'en';
    }
  }
  currentLanguage = chosen;
  document.documentElement.lang = chosen;
  translateDocument();
  const select = document.getElementById('language');
  if (select) {
    select.value = chosen;
  }
}

// The switch in the page's header: save (through save, e.g. the patient's saved choice) or at
// least remember the choice in the portal_lang cookie the server reads, then show the page again.
export function offerLanguages(save) {
  const select = document.getElementById('language');
  if (!select) {
    return;
  }
  select.replaceChildren(...LANGUAGES.map(([code, name]) => el('option', { value: code, lang: code }, name)));
  select.value = currentLanguage;
  select.addEventListener('change', async () => {
    const code = select.value;
    const secure = window.location.protocol === 'https:' ? '; Secure' : '';
    document.cookie = `portal_lang=${code}; Path=/; Max-Age=31536000; SameSite=Strict${secure}`;
    try {
      await save(code);
    } catch (e) {
      // The cookie alone still switches this browser.
    }
    window.location.reload();
  });
}

// Thrown for any answer that is not a success; `message` is ready to show.
export class ApiError extends Error {
  constructor(status, message, detail) {
    super(message);
    this.status = status;
    this.detail = detail || '';
  }
}

// Sentences for each kind of failure (functions: the language is known only once loaded).
const MESSAGES = {
  network: () => t('We could not reach the portal. Check your internet connection and try again.'),
  401: () => t('Your session has ended. Please sign in again.'),
  403: () => t('This account cannot do that.'),
  404: () => t('We could not find that. It may have been removed.'),
  413: () => t('That is too long. Please shorten it and try again.'),
  429: () => t('Too many attempts. Please wait 15 minutes before trying again.'),
  503: () => t('The portal cannot reach its records right now. Nothing is lost; please try again in a few minutes.'),
  server: () => t('Something went wrong on our side. Please try again in a moment.'),
};

function messageFor(status, detail) {
  if (status === 409 || status === 422) {
    return detail ? t('Please check: {detail}', { detail }) : t('Please check what you entered and try again.');
  }
  return (MESSAGES[status] || MESSAGES.server)();
}

// Calls the API. Resolves to the parsed JSON body; rejects with ApiError. The session is an
// HttpOnly cookie the page never sees; the browser adds Origin to writes, which the server
// checks.
export async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, MESSAGES.network());
  }
  let data = null;
  const text = await res.text().catch(() => '');
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (e) {
      data = null;
    }
  }
  if (res.ok) {
    return data || {};
  }
  const detail = data && typeof data.detail === 'string' ? data.detail : '';
  throw new ApiError(res.status, messageFor(res.status, detail), detail);
}

// Creates an element: el('p', {class: 'x'}, 'text', child, ...). Text is always set as text,
// never parsed as HTML, so nothing from the API can inject markup.
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) {
      continue;
    }
    if (k === 'class') {
      node.className = v;
    } else if (k === 'text') {
      node.textContent = v;
    } else if (k.startsWith('on') && typeof v === 'function') {
      node.addEventListener(k.slice(2), v);
    } else {
      node.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) {
      continue;
    }
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// Status messages: polite for progress, assertive (role=alert) for errors. Both regions exist in
// the HTML from the start, so screen readers are listening before anything is announced.
export function announce(text) {
  const region = document.getElementById('status');
  region.textContent = '';
  // A fresh text node after clearing makes repeated messages announce again.
  window.setTimeout(() => {
    region.textContent = text;
  }, 30);
}

export function showError(text) {
  const box = document.getElementById('error');
  box.textContent = text;
  box.hidden = !text;
}

export function clearMessages() {
  showError('');
  document.getElementById('status').textContent = '';
}

// Moves keyboard and screen-reader focus to a heading after the view changed.
export function focusHeading(node) {
  if (!node) {
    return;
  }
  node.setAttribute('tabindex', '-1');
  node.focus();
}

const DATE_TIME = { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: 'numeric', minute: '2-digit' };
const DATE_ONLY = { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' };
const SHORT_DATE = { weekday: 'short', month: 'short', day: 'numeric' };
const DAY_HOUR = { weekday: 'long', day: 'numeric', month: 'long', hour: 'numeric', minute: '2-digit' };

export function formatDateTime(iso) {
  const d = iso ? new Date(iso) : null;
  return d && !Number.isNaN(d.getTime()) ? d.toLocaleString(currentLanguage, DATE_TIME) : '';
}

export function formatDate(iso) {
  const d = iso ? new Date(iso) : null;
  return d && !Number.isNaN(d.getTime()) ? d.toLocaleDateString(currentLanguage, DATE_ONLY) : '';
}

export function formatShortDate(iso) {
  const d = iso ? new Date(iso) : null;
  return d && !Number.isNaN(d.getTime()) ? d.toLocaleDateString(currentLanguage, SHORT_DATE) : '';
}

export function formatDayHour(iso) {
  const d = iso ? new Date(iso) : null;
  return d && !Number.isNaN(d.getTime()) ? d.toLocaleString(currentLanguage, DAY_HOUR) : '';
}

// A <time> element with a machine-readable datetime and a readable text.
export function timeEl(iso, format) {
  return el('time', { datetime: iso }, (format || formatDateTime)(iso));
}

// Turns the value of <input type="datetime-local"> (local time, no zone) into RFC 3339 UTC.
export function localInputToIso(value) {
  if (!value) {
    return null;
  }
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function setBusy(form, busy) {
  for (const b of form.querySelectorAll('button')) {
    b.disabled = busy;
  }
  form.setAttribute('aria-busy', busy ? 'true' : 'false');
}

// Finishes showing a page's sign-in view: messages reset to message (why the person is here
// again, or ''), the tab titled title, focus on the sign-in heading.
export function signinShown(message, title) {
  clearMessages();
  if (message) {
    showError(message);
  }
  document.title = title;
  focusHeading(document.getElementById('signin-title'));
}

// Shows an error that is not an ended session: the API's sentence, or for a bug in the page a
// generic one, with the bug kept visible to developers in the console.
export function showFailure(err) {
  showError(err instanceof ApiError ? err.message : t('Something went wrong on this page. Please reload it.'));
  if (!(err instanceof ApiError)) {
    console.error(err);
  }
}

// Sends a sign-in form's credentials to path, with its buttons busy meanwhile. On success the form
// is cleared (no secret stays in the page) before signedIn runs; a 401 (no match) goes to
// mismatch, any other failure to failed.
export async function signIn(form, path, body, { signedIn, mismatch, failed }) {
  setBusy(form, true);
  try {
    await api('POST', path, body);
    form.reset();
    announce(t('You are signed in.'));
    await signedIn();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      mismatch();
    } else {
      failed(err);
    }
  } finally {
    setBusy(form, false);
  }
}

// Ends the session and then shows the sign-in view through showSignin. A failure to reach the
// server still clears the page: the cookie ends on its own.
export async function signOut(showSignin) {
  try {
    await api('DELETE', '/api/v1/session');
  } catch (err) {
    // The page forgets everything either way.
  }
  window.history.replaceState(null, '', window.location.pathname);
  showSignin('');
  announce(t('You are signed out.'));
}

// A proxy who is also a patient switches between their two pages with one sign-in: the server
// answers a session of the other identity in the same cookie (docs/web.md#proxy-access), then the
// other page loads. Whether there is one to switch to: GET on the same path, {available}.
export async function offerSwitch(path, button, to, failed) {
  const { available } = await api('GET', path);
  button.closest('[data-switch]').hidden = !available;
  if (button.dataset.bound) {
    return;
  }
  button.dataset.bound = '1';
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await api('POST', path);
      window.location.assign(to);
    } catch (err) {
      button.disabled = false;
      failed(err);
    }
  });
}
