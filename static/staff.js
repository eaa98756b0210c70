// The staff console: sign-in with password and TOTP code; the front desk finds patients and prints
// a new access code; administrators also edit release policies (preview, confirm, save with a
// reason), invite, reset and disable physicians, and read the operations views. No report text is
// ever asked for. English only for now (docs/staff.md).
import {
  api, ApiError, el, announce, showError, showFailure, clearMessages, focusHeading, formatDate,
  formatDateTime, setBusy, signIn, signinShown, signOut,
} from './common.js';

const signinView = document.getElementById('signin-view');
const appView = document.getElementById('app-view');
const signoutButton = document.getElementById('signout');
const PANELS = ['patients', 'policies', 'physicians', 'operations'];
let me = null;
let proposed = null;
let policies = [];
let contactFor = null;

function table(headers, rows, caption) {
  const head = el('tr', null, ...headers.map((h) => el('th', { scope: 'col' }, h)));
  const body = rows.map((r) => el('tr', null, ...r.map((c) => el('td', null, c))));
  return el('div', { class: 'table-wrap' },
    el('table', { class: 'data' }, el('caption', { class: 'small' }, caption), el('thead', null, head),
      el('tbody', null, ...body)));
}

function forget() {
  for (const id of ['search-results', 'policies-table', 'physicians-table', 'holds-table', 'overdue-table',
    'notifications-table', 'config-table']) {
    document.getElementById(id).replaceChildren();
  }
  document.getElementById('print-code').textContent = '';
  document.getElementById('print-view').hidden = true;
  document.getElementById('invitation-result').hidden = true;
  document.getElementById('invitation-text').textContent = '';
  document.getElementById('contact-form').hidden = true;
  contactFor = null;
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
  if (PANELS.includes(p) && (p === 'patients' || me.role === 'admin')) {
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
  if (p === 'policies') {
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

function printCode(answer) {
  document.getElementById('print-patient').textContent =
    `For ${answer.patient.name} (${answer.patient.mrn})`;
  document.getElementById('print-code').textContent = answer.access_code;
  document.getElementById('print-url').textContent = answer.portal_url || window.location.origin;
  document.getElementById('patients-view').hidden = true;
  document.getElementById('print-view').hidden = false;
  document.title = 'Access code to print – Results portal staff';
  focusHeading(document.getElementById('print-title'));
}

async function newCode(patient, button) {
  button.disabled = true;
  try {
    printCode(await api('POST', `/api/v1/staff/patients/${encodeURIComponent(patient.patient_id)}/access-code`));
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
    return [p.name, formatDate(p.birth_date), `${p.mrn} (${p.assigning_authority})`,
      [p.email, p.phone].filter(Boolean).join(', ') || '—', el('span', { class: 'actions' }, button, contact)];
  });
}

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
  const config = await api('GET', '/api/v1/admin/config');
  document.getElementById('config-table').replaceChildren(table(['Setting', 'Value'],
    config.settings.map((s) => [s.name, s.value == null ? '(none)' : s.value]),
    'Secrets are shown only as set; change settings in the server environment.'));
}

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
