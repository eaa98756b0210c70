// The staff console: sign-in with password and TOTP code; the front desk finds patients, prints a
// new access code and manages their proxy links; administrators also edit release policies
// (preview, confirm, save with a reason), invite, reset and disable physicians, and read the
// operations views. No report text is ever asked for. The staff pages are in English; the printed
// code sheet, which the patient or proxy takes home, is in the patient's language (docs/staff.md).
import {
  api, ApiError, el, announce, showError, showFailure, clearMessages, focusHeading, formatDate,
  formatDateTime, setBusy, signIn, signinShown, signOut, translatorFor,
} from './common.js';
import { answerForm } from './answer_form.js';

const signinView = document.getElementById('signin-view');
const appView = document.getElementById('app-view');
const signoutButton = document.getElementById('signout');
const PANELS = ['patients', 'callbacks', 'policies', 'physicians', 'operations'];
const EVERYONE = ['patients', 'callbacks'];
let me = null;
let proposed = null;
let policies = [];
let contactFor = null;
let proxiesFor = null;
let renewing = null;

function table(headers, rows, caption) {
  const head = el('tr', null, ...headers.map((h) => el('th', { scope: 'col' }, h)));
  const body = rows.map((r) => el('tr', null, ...r.map((c) => el('td', null, c))));
  return el('div', { class: 'table-wrap' },
    el('table', { class: 'data' }, el('caption', { class: 'small' }, caption), el('thead', null, head),
      el('tbody', null, ...body)));
}

function forget() {
  for (const id of ['search-results', 'callbacks-list', 'policies-table', 'physicians-table', 'holds-table', 'overdue-table',
    'notifications-table', 'config-table']) {
    document.getElementById(id).replaceChildren();
  }
  document.getElementById('print-code').textContent = '';
  document.getElementById('print-view').hidden = true;
  document.getElementById('invitation-result').hidden = true;
  document.getElementById('invitation-text').textContent = '';
  document.getElementById('contact-form').hidden = true;
  contactFor = null;
  document.getElementById('proxies-panel').hidden = true;
  document.getElementById('proxies-table').replaceChildren();
  proxiesFor = null;
}

function showSignin(message) {
  forget();
  me = null;
  appView.hidden = true;
  signinView.hidden = false;
  signoutButton.hidden = true;
  signinShown(message, 'Staff sign-in – Results portal');
}

function handleError(err) {
  if (err instanceof ApiError && (err.status === 401 || (err.status === 403 && !me))) {
    showSignin(me ? 'Your session has ended. Please sign in again.' : '');
    return;
  }
  showFailure(err);
}

function panel() {
  const p = window.location.hash.replace(/^#/, '');
  if (PANELS.includes(p) && (EVERYONE.includes(p) || me.role === 'admin')) {
    return p;
  }
  return 'patients';
}

async function show(focus) {
  const p = panel();
  for (const name of PANELS) {
    document.getElementById(`${name}-view`).hidden = name !== p;
    const tab = document.getElementById(`tab-${name}`);
    if (name === p) {
      tab.setAttribute('aria-current', 'page');
    } else {
      tab.removeAttribute('aria-current');
    }
  }
  document.getElementById('print-view').hidden = true;
  document.title = `${document.getElementById(`${p}-title`).textContent} – Results portal staff`;
  if (p === 'callbacks') {
    await loadCallbacks();
  } else if (p === 'policies') {
    await loadPolicies();
  } else if (p === 'physicians') {
    await loadPhysicians();
  } else if (p === 'operations') {
    await loadOperations();
  }
  if (focus) {
    focusHeading(document.getElementById(`${p}-title`));
  }
}

async function start(focus) {
  clearMessages();
  try {
    me = await api('GET', '/api/v1/staff/me');
    signinView.hidden = true;
    appView.hidden = false;
    signoutButton.hidden = false;
    for (const a of document.querySelectorAll('.admin-only')) {
      a.hidden = me.role !== 'admin';
    }
    await show(focus);
  } catch (err) {
    handleError(err);
  }
}

// ---- patients ----

// ---- the printed sheets: in the patient's language, for the patient or their proxy to take home ----

function sheetText(id, text) {
  document.getElementById(id).textContent = text;
}

// kind 'patient': answer is the access-code answer; 'proxy': { access_code, portal_url, name,
// patient } with the proxy's and the patient's names.
async function printSheet(kind, answer, language) {
  const { lang, t } = await translatorFor(language);
  const base = (answer.portal_url || window.location.origin).replace(/\/$/, '');
  if (kind === 'patient') {
    sheetText('print-title', t('Your results portal access code'));
    sheetText('print-patient', t('For {name} ({mrn})', { name: answer.patient.name, mrn: answer.patient.mrn }));
    sheetText('print-url', base);
    sheetText('print-step-code', t('Enter the access code above and your birth date.'));
    sheetText('print-step-see', t('You will see where each of your imaging studies is, and your results once they are shared with you.'));
    sheetText('print-note', t('This code replaces any code you were given before. Keep it private: anyone with it and your birth date can see your results.'));
  } else {
    sheetText('print-title', t('Your family access code'));
    sheetText('print-patient', t('For {name}, to follow the results of {patient}', { name: answer.name, patient: answer.patient }));
    sheetText('print-url', `${base}/proxy.html`);
    sheetText('print-step-code', t('Enter the access code above and your own birth date, not the patient\'s.'));
    sheetText('print-step-see', t('You will see where their imaging studies are, and the results you may see once they are shared, for as long as your access lasts.'));
    sheetText('print-note', t('This code is yours alone and replaces any code you were given before. Keep it private.'));
  }
  sheetText('print-label', t('Your access code'));
  sheetText('print-howto', t('How to sign in'));
  sheetText('print-step-url', t('Go to this address:'));
  sheetText('print-code', answer.access_code);
  const sheet = document.getElementById('print-view');
  sheet.lang = lang;
  document.getElementById('patients-view').hidden = true;
  sheet.hidden = false;
  document.title = 'Access code to print – Results portal staff';
  focusHeading(document.getElementById('print-title'));
  if (lang !== language) {
    announce('The patient\'s language could not be loaded: this sheet is in English.');
  }
}

async function newCode(patient, button) {
  button.disabled = true;
  try {
    const answer = await api('POST', `/api/v1/staff/patients/${encodeURIComponent(patient.patient_id)}/access-code`);
    await printSheet('patient', answer, answer.patient.language);
    announce('A new access code was made; the old one no longer works.');
  } catch (err) {
    handleError(err);
  } finally {
    button.disabled = false;
  }
}

function editContact(patient) {
  contactFor = patient;
  const form = document.getElementById('contact-form');
  document.getElementById('contact-title').textContent = `Contact details of ${patient.name}`;
  document.getElementById('contact-channel').value = patient.notify_channel;
  document.getElementById('contact-email').value = patient.email || '';
  document.getElementById('contact-phone').value = patient.phone || '';
  form.hidden = false;
  focusHeading(document.getElementById('contact-title'));
}

function patientRows(patients) {
  return patients.map((p) => {
    const button = el('button', { type: 'button', class: 'secondary' }, 'New access code');
    button.addEventListener('click', () => newCode(p, button));
    const contact = el('button', { type: 'button', class: 'secondary' }, 'Contact details');
    contact.addEventListener('click', () => editContact(p));
    const proxies = el('button', { type: 'button', class: 'secondary' }, 'Proxies');
    proxies.addEventListener('click', () => showProxies(p).catch(handleError));
    return [p.name, formatDate(p.birth_date), `${p.mrn} (${p.assigning_authority})`,
      [p.email, p.phone].filter(Boolean).join(', ') || '—', el('span', { class: 'actions' }, button, contact, proxies)];
  });
}

// ---- a patient's proxies ----

// A date input's day as an RFC 3339 instant in the browser's zone: its start, or its last second.
function dayInstant(day, end) {
  return new Date(`${day}T${end ? '23:59:59' : '00:00:00'}`).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function linkState(l) {
  if (l.active) {
    return 'In force';
  }
  if (l.ended_at) {
    return `Ended ${formatDate(l.ended_at)}`;
  }
  return new Date(l.starts_at) > new Date() ? 'Not started yet' : 'Expired';
}

function linkRow(l) {
  const actions = el('span', { class: 'actions' });
  const code = el('button', { type: 'button', class: 'secondary', 'aria-label': `New code for ${l.name}` }, 'New code');
  code.addEventListener('click', () => newProxyCode(l, code));
  actions.append(code);
  if (!l.ended_at) {
    const renew = el('button', { type: 'button', class: 'secondary', 'aria-label': `Renew ${l.name}` }, 'Renew');
    renew.addEventListener('click', () => startRenew(l));
    const end = el('button', { type: 'button', class: 'secondary', 'aria-label': `End access of ${l.name}` }, 'End access');
    end.addEventListener('click', () => endLink(l, end));
    actions.append(renew, end);
  }
  return [l.name, l.kind === 'guardian' ? 'Parent or guardian' : 'Caregiver', formatDate(l.starts_at),
    l.ends_at ? formatDate(l.ends_at) : 'Age of majority', linkState(l), actions];
}

async function loadProxies() {
  const answer = await api('GET', `/api/v1/staff/patients/${encodeURIComponent(proxiesFor.patient.patient_id)}/proxies`);
  proxiesFor.language = answer.language;
  document.getElementById('proxies-table').replaceChildren(answer.links.length
    ? table(['Proxy', 'Kind', 'From', 'Until', 'Status', ''], answer.links.map(linkRow),
      `Proxies of ${proxiesFor.patient.name}, those in force first`)
    : el('p', null, 'No proxy yet.'));
}

async function showProxies(patient) {
  clearMessages();
  proxiesFor = { patient, language: null };
  document.getElementById('renew-form').hidden = true;
  document.getElementById('proxies-title').textContent = `Proxies of ${patient.name}`;
  document.getElementById('proxies-panel').hidden = false;
  await loadProxies();
  focusHeading(document.getElementById('proxies-title'));
}

async function newProxyCode(link, button) {
  clearMessages();
  button.disabled = true;
  try {
    const answer = await api('POST', `/api/v1/staff/proxies/${encodeURIComponent(link.proxy_id)}/access-code`);
    await printSheet('proxy', { ...answer, name: link.name, patient: proxiesFor.patient.name }, proxiesFor.language);
    announce(`A new access code was made for ${link.name}; their old one no longer works.`);
  } catch (err) {
    handleError(err);
  } finally {
    button.disabled = false;
  }
}

function startRenew(link) {
  renewing = link;
  document.getElementById('renew-title').textContent = `Renew the access of ${link.name}`;
  document.getElementById('renew-until').value = '';
  document.getElementById('renew-form').hidden = false;
  document.getElementById('renew-until').focus();
}

async function endLink(link, button) {
  clearMessages();
  button.disabled = true;
  try {
    await api('DELETE', `/api/v1/staff/proxy-links/${encodeURIComponent(link.id)}`);
    await loadProxies();
    announce(`${link.name} no longer has access to the results of ${proxiesFor.patient.name}.`);
    focusHeading(document.getElementById('proxies-title'));
  } catch (err) {
    handleError(err);
    button.disabled = false;
  }
}

document.getElementById('renew-cancel').addEventListener('click', () => {
  document.getElementById('renew-form').hidden = true;
  focusHeading(document.getElementById('proxies-title'));
});

document.getElementById('renew-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearMessages();
  const form = ev.currentTarget;
  const until = document.getElementById('renew-until');
  if (!until.value) {
    showError('Please enter the new end date.');
    until.focus();
    return;
  }
  setBusy(form, true);
  try {
    await api('PUT', `/api/v1/staff/proxy-links/${encodeURIComponent(renewing.id)}`, { ends_at: dayInstant(until.value, true) });
    form.hidden = true;
    await loadProxies();
    announce(`The access of ${renewing.name} now ends on ${formatDate(dayInstant(until.value, true))}.`);
    focusHeading(document.getElementById('proxies-title'));
  } catch (err) {
    handleError(err);
  } finally {
    setBusy(form, false);
  }
});

document.getElementById('proxy-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearMessages();
  const form = ev.currentTarget;
  const value = (id) => document.getElementById(id).value.trim();
  const kind = value('proxy-kind');
  const missing = [['proxy-name', 'the proxy\'s name'], ['proxy-birth', 'the proxy\'s birth date']]
    .concat(kind === 'caregiver' ? [['proxy-until', 'the end date (a caregiver\'s access always ends)']] : [])
    .find(([id]) => !value(id));
  if (missing) {
    showError(`Please enter ${missing[1]}.`);
    document.getElementById(missing[0]).focus();
    return;
  }
  const body = { name: value('proxy-name'), birth_date: value('proxy-birth'), kind };
  if (value('proxy-email')) {
    body.email = value('proxy-email');
  }
  if (value('proxy-from')) {
    body.starts_at = dayInstant(value('proxy-from'), false);
  }
  if (value('proxy-until')) {
    body.ends_at = dayInstant(value('proxy-until'), true);
  }
  setBusy(form, true);
  try {
    const answer = await api('POST', `/api/v1/staff/patients/${encodeURIComponent(proxiesFor.patient.patient_id)}/proxies`, body);
    form.reset();
    await loadProxies();
    await printSheet('proxy', { ...answer, patient: proxiesFor.patient.name }, answer.language);
    announce(`${answer.name} can now follow the results of ${proxiesFor.patient.name}.`);
  } catch (err) {
    handleError(err);
  } finally {
    setBusy(form, false);
  }
});

document.getElementById('contact-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearMessages();
  const form = ev.currentTarget;
  const email = document.getElementById('contact-email').value.trim();
  const phone = document.getElementById('contact-phone').value.trim();
  setBusy(form, true);
  try {
    await api('PUT', `/api/v1/staff/patients/${encodeURIComponent(contactFor.patient_id)}/contact`, {
      channel: document.getElementById('contact-channel').value, email: email || null, phone: phone || null,
    });
    form.hidden = true;
    announce(`The contact details of ${contactFor.name} are saved.`);
  } catch (err) {
    handleError(err);
  } finally {
    setBusy(form, false);
  }
});

document.getElementById('search-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearMessages();
  const form = ev.currentTarget;
  const identifier = document.getElementById('search-identifier').value.trim();
  const name = document.getElementById('search-name').value.trim();
  const birth = document.getElementById('search-birth').value;
  if (!identifier && !(name && birth)) {
    showError('Please enter an identifier, or a name and a birth date.');
    document.getElementById('search-identifier').focus();
    return;
  }
  const q = new URLSearchParams(identifier ? { identifier } : { name, birth_date: birth });
  setBusy(form, true);
  try {
    const found = await api('GET', `/api/v1/staff/patients?${q}`);
    const out = document.getElementById('search-results');
    out.replaceChildren(found.patients.length
      ? table(['Name', 'Birth date', 'Identifier', 'Contact', ''], patientRows(found.patients),
        `${found.patients.length} patient${found.patients.length === 1 ? '' : 's'} found`)
      : el('p', null, 'No patient found.'));
  } catch (err) {
    handleError(err);
  } finally {
    setBusy(form, false);
  }
});

document.getElementById('print-button').addEventListener('click', () => window.print());
document.getElementById('print-close').addEventListener('click', () => {
  document.getElementById('print-code').textContent = '';
  document.getElementById('print-view').hidden = true;
  document.getElementById('patients-view').hidden = false;
  focusHeading(document.getElementById('patients-title'));
});

// ---- call-backs: the patients' requests to talk their results over ----

const CALLBACK_STATES = { open: 'Open', contacted: 'Contacted', scheduled: 'Scheduled', closed: 'Closed' };

function callbackForm(r) {
  return answerForm(r, {
    path: `/api/v1/staff/discussion-requests/${encodeURIComponent(r.id)}/answer`,
    saved: async (state) => {
      await loadCallbacks();
      announce(`The request of ${r.patient.name} is saved: ${CALLBACK_STATES[state]}.`);
      focusHeading(document.getElementById('callbacks-title'));
    },
    failed: handleError,
  });
}

async function loadCallbacks() {
  const { requests } = await api('GET', '/api/v1/staff/discussion-requests');
  const list = document.getElementById('callbacks-list');
  list.replaceChildren(...(requests.length ? requests.map((r) => {
    const contact = [r.patient.phone, r.patient.email].filter(Boolean).join(' · ') || 'no contact details on file';
    const times = (r.preferred_times || []).map((at) => el('li', null, formatDateTime(at)));
    return el('li', { class: 'card' },
      el('h2', null, `${r.patient.name} – ${r.description}`),
      el('p', { class: 'small' }, `${CALLBACK_STATES[r.state] || r.state} · asked ${formatDateTime(r.created_at)} · `
        + `${r.accession} · physician ${r.physician.name}`),
      el('p', null, `Contact: ${contact}`),
      r.state === 'scheduled' && r.scheduled_for ? el('p', null, `Discussion scheduled for ${formatDateTime(r.scheduled_for)}.`) : null,
      times.length ? [el('p', null, 'Times that suit the patient:'), el('ul', null, times)] : el('p', null, 'No preferred times given.'),
      r.message ? el('p', null, 'Message: ', el('q', null, r.message)) : null,
      r.reply ? el('p', null, 'The office\'s message to the patient: ', el('q', null, r.reply)) : null,
      callbackForm(r));
  }) : [el('li', null, 'No call-back to answer.')]));
}

// ---- release policies ----

function hours(seconds) {
  return seconds == null ? 'never' : `${Math.round(seconds / 3600)} h`;
}

async function loadPolicies() {
  ({ policies } = await api('GET', '/api/v1/admin/policies'));
  document.getElementById('policies-table').replaceChildren(table(
    ['Site', 'Modality', 'Mode', 'Automatic release after', 'Patients may choose'],
    policies.map((p) => [p.site, p.modality, p.mode === 'immediate' ? 'As soon as final' : 'After review',
      p.mode === 'immediate' ? '—' : hours(p.auto_release_after_seconds), p.patient_preference_allowed ? 'Yes' : 'No']),
    'The most specific row applies: site and modality, then site, then modality, then the default (*, *).'));
}

document.getElementById('policy-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearMessages();
  const form = ev.currentTarget;
  const auto = document.getElementById('policy-auto').value;
  const mode = document.getElementById('policy-mode').value;
  const site = document.getElementById('policy-site').value.trim() || '*';
  const modality = document.getElementById('policy-modality').value;
  // The form edits the mode and the deadline; an existing row keeps its other settings (patients'
  // choice, hold lengths), which an omitted field would otherwise reset to the table's default.
  const existing = policies.find((p) => p.site === site && p.modality === modality);
  const kept = {};
  if (existing) {
    for (const k of ['patient_preference_allowed', 'max_patient_delay_seconds', 'hold_default_seconds', 'hold_max_seconds']) {
      kept[k] = existing[k];
    }
  }
  proposed = {
    ...kept,
    site,
    modality,
    mode,
    auto_release_after_seconds: auto && mode === 'physician_review' ? Number(auto) * 3600 : null,
  };
  setBusy(form, true);
  try {
    const { would_release: n } = await api('POST', '/api/v1/admin/policies/preview', proposed);
    document.getElementById('policy-confirm-text').textContent = n === 0
      ? 'Saving this policy would release no waiting report at once.'
      : `Saving this policy would release ${n} waiting report${n === 1 ? '' : 's'} to patients at once, at the next sweep.`;
    document.getElementById('policy-confirm').hidden = false;
    focusHeading(document.getElementById('policy-confirm-title'));
  } catch (err) {
    handleError(err);
  } finally {
    setBusy(form, false);
  }
});

document.getElementById('policy-cancel').addEventListener('click', () => {
  proposed = null;
  document.getElementById('policy-confirm').hidden = true;
  announce('Nothing was changed.');
  document.getElementById('policy-site').focus();
});

document.getElementById('policy-save').addEventListener('click', async () => {
  clearMessages();
  const reason = document.getElementById('policy-reason').value.trim();
  if (!reason) {
    showError('Please give the reason for the change.');
    document.getElementById('policy-reason').focus();
    return;
  }
  try {
    await api('PUT', '/api/v1/admin/policies', { ...proposed, reason });
    proposed = null;
    document.getElementById('policy-confirm').hidden = true;
    document.getElementById('policy-reason').value = '';
    await loadPolicies();
    announce('The policy is saved.');
    focusHeading(document.getElementById('policies-title'));
  } catch (err) {
    handleError(err);
  }
});

// ---- physicians ----

async function invite(p, reset) {
  clearMessages();
  try {
    const inv = await api('POST', '/api/v1/admin/physician-invitations', { physician_id: p.physician_id, reset });
    const box = document.getElementById('invitation-result');
    document.getElementById('invitation-text').replaceChildren(
      `Give ${p.name} this code (it works once, until ${formatDateTime(inv.expires_at)}): `,
      el('strong', { class: 'invitation-code' }, inv.invitation_code),
      inv.url ? `, or the link ${inv.url}` : '', '. They set their own password with it on ',
      el('a', { href: '/invitation.html' }, 'the invitation page'), '.');
    box.hidden = false;
    await loadPhysicians();
    focusHeading(document.getElementById('invitation-title'));
  } catch (err) {
    handleError(err);
  }
}

async function setDisabled(p, disabled) {
  clearMessages();
  try {
    await api('PUT', '/api/v1/admin/physician-status', { physician_id: p.physician_id, disabled });
    await loadPhysicians();
    announce(disabled ? `${p.name} is disabled; their sessions have ended.` : `${p.name} may sign in again.`);
  } catch (err) {
    handleError(err);
  }
}

function actionButton(text, fn) {
  const b = el('button', { type: 'button', class: 'secondary' }, text);
  b.addEventListener('click', fn);
  return b;
}

async function loadPhysicians() {
  const { physicians } = await api('GET', '/api/v1/admin/physicians');
  document.getElementById('physicians-table').replaceChildren(table(
    ['Physician', 'Waiting', 'Oldest waiting since', 'Account', ''],
    physicians.map((p) => [`${p.name} (${p.physician_id})`, String(p.waiting),
      p.oldest_waiting_since ? formatDateTime(p.oldest_waiting_since) : '—',
      p.disabled ? 'Disabled' : (p.has_password ? 'Password set' : 'No password yet'),
      el('span', { class: 'actions' },
        actionButton(p.has_password ? 'Reset password' : 'Invite', () => invite(p, p.has_password)),
        actionButton(p.disabled ? 'Enable' : 'Disable', () => setDisabled(p, !p.disabled)))]),
    'Reports waiting are final reports not yet released.'));
}

// ---- operations ----

function holdsQuery() {
  const q = new URLSearchParams();
  const from = document.getElementById('holds-from').value;
  const to = document.getElementById('holds-to').value;
  if (from) {
    q.set('from', `${from}T00:00:00Z`);
  }
  if (to) {
    q.set('to', `${to}T23:59:59Z`);
  }
  return q;
}

async function loadHolds() {
  const q = holdsQuery();
  const report = await api('GET', `/api/v1/admin/holds?${q}`);
  const csv = new URLSearchParams(q);
  csv.set('format', 'csv');
  document.getElementById('holds-csv').setAttribute('href', `/api/v1/admin/holds?${csv}`);
  const rows = report.items.map((h) => [h.kind === 'hold' ? 'Hold' : 'Delayed release', h.accession,
    h.reason_code || '—', h.by_name || h.by || '—', formatDateTime(h.started_at),
    h.ended_how || '—']);
  document.getElementById('holds-table').replaceChildren(rows.length
    ? table(['Kind', 'Accession', 'Reason', 'By', 'Started', 'Ended'], rows, 'Holds and delayed releases in the period')
    : el('p', null, 'Nothing in this period.'));
}

async function loadOperations() {
  await loadHolds();
  const overdue = await api('GET', '/api/v1/admin/overdue');
  document.getElementById('overdue-table').replaceChildren(overdue.studies.length
    ? table(['Stage', 'Accession', 'Site', 'Modality', 'Priority'],
      overdue.studies.map((s) => [s.stage, s.accession, s.site, s.modality, s.priority]), 'In stage order')
    : el('p', null, 'No study is past its estimate.'));
  const notes = await api('GET', '/api/v1/admin/notifications');
  document.getElementById('notifications-table').replaceChildren(notes.messages.length
    ? table(['Kind', 'Channel', 'To', 'State', 'Attempts', 'Last failure'],
      notes.messages.map((m) => [m.kind, m.channel, m.audience, m.state, String(m.attempts), m.failure || '—']),
      'Newest first, without contents')
    : el('p', null, 'No failed or waiting notification.'));
  await loadClosedDays();
  const config = await api('GET', '/api/v1/admin/config');
  document.getElementById('config-table').replaceChildren(table(['Setting', 'Value'],
    config.settings.map((s) => [s.name, s.value == null ? '(none)' : s.value]),
    'Secrets are shown only as set; change settings in the server environment.'));
}

// A calendar day as the staff's language writes it, the same day in every browser's zone.
function dayText(day) {
  return new Date(`${day}T12:00:00Z`).toLocaleDateString(document.documentElement.lang || 'en',
    { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
}

async function loadClosedDays() {
  const { closed_days: days } = await api('GET', '/api/v1/admin/closed-days');
  document.getElementById('closed-table').replaceChildren(days.length
    ? table(['Day', 'Note', 'Added by', ''],
      days.map((d) => [dayText(d.day), d.note || '—', d.added_by,
        actionButton('Open again', () => openDay(d))]),
      'From a year ago on')
    : el('p', null, 'No closed day is entered.'));
}

async function openDay(d) {
  clearMessages();
  try {
    await api('DELETE', `/api/v1/admin/closed-days/${d.day}`);
    await loadClosedDays();
    announce(`${dayText(d.day)} is no longer marked closed.`);
  } catch (err) {
    handleError(err);
  }
}

document.getElementById('closed-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearMessages();
  const day = document.getElementById('closed-day');
  if (!day.value) {
    day.setAttribute('aria-invalid', 'true');
    showError('Please enter the day.');
    day.focus();
    return;
  }
  day.removeAttribute('aria-invalid');
  try {
    const note = document.getElementById('closed-note').value.trim();
    await api('PUT', '/api/v1/admin/closed-days', note ? { day: day.value, note } : { day: day.value });
    await loadClosedDays();
    announce(`${dayText(day.value)} is marked closed; estimates now count it.`);
  } catch (err) {
    handleError(err);
  }
});

document.getElementById('holds-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearMessages();
  try {
    await loadHolds();
  } catch (err) {
    handleError(err);
  }
});

// ---- sign-in, sign-out, navigation ----

document.getElementById('signin-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearMessages();
  const form = ev.currentTarget;
  const fields = ['staff-id', 'staff-password', 'staff-code'].map((id) => document.getElementById(id));
  const missing = fields.find((f) => !f.value.trim());
  if (missing) {
    missing.setAttribute('aria-invalid', 'true');
    showError(`Please enter your ${missing.labels[0].textContent.toLowerCase()}.`);
    missing.focus();
    return;
  }
  const [id, pw, code] = fields;
  await signIn(form, '/api/v1/staff/session', { id: id.value.trim(), password: pw.value, code: code.value.trim() }, {
    signedIn: () => start(true),
    mismatch: () => {
      showError('That id, password and code do not match our records. Codes work once; wait for the next one.');
      pw.value = '';
      code.value = '';
      id.focus();
    },
    failed: handleError,
  });
});

signoutButton.addEventListener('click', () => signOut(showSignin));
window.addEventListener('hashchange', () => {
  if (me) {
    clearMessages();
    show(true).catch(handleError);
  }
});

start(false);
