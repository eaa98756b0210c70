// The proxy's page (issue 16): a parent, guardian or caregiver signs in with their own code and
// follows the exams and released reports of each person they act for. Everything shown comes
// from the proxy endpoints, which apply the clinic's rules (docs/web.md#proxy-access); the page
// never guesses at what it is not sent.
import {
  api, ApiError, el, showError, showFailure, clearMessages, focusHeading, formatDate,
  formatDateTime, formatShortDate, timeEl, signIn, signinShown, signOut, t, tParts, loadLanguage, offerLanguages,
  offerSwitch,
} from './common.js';

// Looked up when shown: the catalogue arrives after the module loads.
function relation(kind) {
  return { guardian: t('You are their parent or guardian'), caregiver: t('You are their caregiver') }[kind] || '';
}

// The link in one sentence, with its end when it has one.
function relationUntil(kind, endsAt) {
  if (!endsAt) {
    return { guardian: t('You are their parent or guardian.'), caregiver: t('You are their caregiver.') }[kind] || '';
  }
  const date = timeEl(endsAt, formatDate);
  return kind === 'guardian' ? tParts('You are their parent or guardian until {date}.', { date })
    : tParts('You are their caregiver until {date}.', { date });
}

// One whole sentence per case, so that a translation agrees with every word it needs.
function accessSentence(e) {
  const name = e.actor;
  if (e.action === 'released_automatically') {
    return t('The report was shared automatically.');
  }
  if (e.action === 'hold_ended' && (e.actor_kind === 'automatic' || !name)) {
    return t('A hold on the report ended.');
  }
  if (e.actor_kind === 'staff') {
    return e.action === 'viewed' ? t('Clinic staff opened the report.') : t('Clinic staff acted on the report.');
  }
  if (e.action === 'viewed') {
    return t('{name} opened the report.', { name });
  }
  if (e.action === 'released') {
    return t('{name} shared the report.', { name });
  }
  if (e.action === 'hold_ended') {
    return t('{name} ended a hold on the report.', { name });
  }
  return t('{name} acted on the report.', { name });
}

function stepName(stage) {
  return {
    ordered: t('Ordered'), scheduled: t('Booked'), checked_in: t('Checked in'), imaging: t('Images taken'),
    awaiting_read: t('Waiting for a radiologist'), reading: t('Radiologist reading'),
    physician_review: t('Doctor reviewing'), available: t('Results ready'), cancelled: t('Cancelled'),
  }[stage] || stage;
}

const views = {
  retry: document.getElementById('retry-view'),
  signin: document.getElementById('signin-view'),
  patients: document.getElementById('patients-view'),
  patient: document.getElementById('patient-view'),
  study: document.getElementById('study-view'),
};
const signoutButton = document.getElementById('signout');
let signedIn = false;

function show(name) {
  for (const [k, v] of Object.entries(views)) {
    v.hidden = k !== name;
  }
  signoutButton.hidden = name === 'signin' || name === 'retry';
}

function forget() {
  for (const id of ['patients', 'patient-studies', 'patient-access', 'study-body']) {
    document.getElementById(id).replaceChildren();
  }
  document.getElementById('patient-title').textContent = '';
  document.getElementById('study-title').textContent = '';
}

function showSignin(message) {
  forget();
  show('signin');
  signinShown(message, t('Sign in – Results for someone you care for'));
}

function handleError(err) {
  if (err instanceof ApiError && err.status === 401) {
    const was = signedIn;
    signedIn = false;
    showSignin(was ? t('For your safety you were signed out. Please sign in again to continue.') : '');
    return;
  }
  if (err instanceof ApiError && err.status === 404) {
    // A link that ended, or a page that is no longer theirs to see: back to the list, saying why.
    window.history.replaceState(null, '', window.location.pathname);
    showPatients(true).then(() => showError(
      t('This is no longer available to you. Your access may have ended; the clinic can renew it.'),
    )).catch(showFailure);
    return;
  }
  showFailure(err);
  if (Object.values(views).every((v) => v.hidden)) {
    show('retry');
    signoutButton.hidden = true;
  }
}

async function patientsById() {
  const data = await api('GET', '/api/v1/proxy/patients');
  signedIn = true;
  return new Map((data.patients || []).map((p) => [p.id, p]));
}

async function showPatients(focus) {
  const patients = await patientsById();
  // A proxy the clinic has recorded as one of its patients switches to their own record here;
  // any other has their own page and code.
  await offerSwitch('/api/v1/proxy/own-record', document.getElementById('own-record-button'), '/', handleError);
  document.getElementById('own-record-elsewhere').hidden = !document.getElementById('own-record').hidden;
  const ul = document.getElementById('patients');
  ul.replaceChildren();
  if (!patients.size) {
    ul.append(el('li', { class: 'card' }, t('You do not follow anyone at the moment. If you should, ask the clinic: access has an end date and may need renewing.')));
  }
  for (const p of patients.values()) {
    ul.append(el('li', { class: 'card' },
      el('h2', { class: 'study-name' }, el('a', { href: `#patient/${p.id}` }, p.name)),
      el('p', { class: 'meta' }, relationUntil(p.relation, p.ends_at))));
  }
  show('patients');
  document.title = t('People you follow – Results for someone you care for');
  if (focus) {
    focusHeading(document.getElementById('patients-title'));
  }
}

function timeline(study) {
  const ol = el('ol', { class: 'tracker', 'aria-label': t('Progress so far') });
  for (const step of study.timeline || []) {
    ol.append(el('li', { class: 'step done' }, el('span', { class: 'dot', 'aria-hidden': 'true' }),
      el('span', { class: 'step-name' }, stepName(step.stage)),
      el('span', { class: 'step-time' }, timeEl(step.at, formatShortDate))));
  }
  return ol;
}

// How the report came to be shared, in one sentence: by whom (released_by_kind "physician"), or
// automatically under the site's policy or at the patient's own choice (docs/release-policies.md).
function sharedSentence(r) {
  const when = timeEl(r.released_at);
  if (r.released_by_kind === 'site_policy') {
    return tParts('Shared on {when} automatically, under the imaging centre’s policy.', { when });
  }
  if (r.released_by_kind === 'patient_preference') {
    return tParts('Shared on {when} automatically, as the patient chose.', { when });
  }
  return r.released_by && r.released_by_kind === 'physician' ? tParts('Shared on {when} by {name}.', { when, name: r.released_by })
    : tParts('Shared on {when} by their doctor.', { when });
}

function studyCard(patientId, s) {
  const li = el('li', { class: 'card study' },
    el('h2', { class: 'study-name' }, s.description),
    el('p', { class: `stage-label stage-${s.stage}` }, s.stage_label || ''),
    el('p', { class: 'explanation' }, s.stage_explanation || ''));
  if (s.report_available) {
    li.append(el('p', {}, el('a', { class: 'button primary', href: `#study/${patientId}/${s.id}`, 'aria-label': t('Read the results for {name}', { name: s.description }) },
      t('Read the results'))));
  }
  return li;
}

async function accessLog(patientId) {
  const data = await api('GET', `/api/v1/proxy/patients/${encodeURIComponent(patientId)}/access-log`);
  const box = el('section', { class: 'card', 'aria-labelledby': 'access-title' },
    el('h2', { id: 'access-title' }, t('Who has seen this record')));
  const ul = el('ul', { class: 'access-log' });
  for (const e of data.entries || []) {
    ul.append(el('li', { class: 'access-entry' }, el('p', { class: 'access-what' }, accessSentence(e)),
      el('p', { class: 'meta' }, timeEl(e.at, formatDateTime), ` · ${e.description}`)));
  }
  if (!ul.children.length) {
    ul.append(el('li', {}, t('Nobody has opened these reports yet.')));
  }
  box.append(ul);
  return box;
}

async function showPatient(patientId, focus) {
  const patients = await patientsById();
  const p = patients.get(patientId);
  if (!p) {
    throw new ApiError(404, 'Not found');
  }
  const data = await api('GET', `/api/v1/proxy/patients/${encodeURIComponent(patientId)}/studies`);
  document.getElementById('patient-title').textContent = p.name;
  const studies = data.studies || [];
  document.getElementById('patient-intro').textContent = studies.length
    ? t('{relation}. Their exams, newest first.', { relation: relation(p.relation) })
    : t('{relation}. There are no exams to show.', { relation: relation(p.relation) });
  document.getElementById('patient-studies').replaceChildren(...studies.map((s) => studyCard(patientId, s)));
  const access = document.getElementById('patient-access');
  access.replaceChildren();
  if (p.access_log) {
    access.append(await accessLog(patientId));
  }
  show('patient');
  document.title = t('{name} – Results for someone you care for', { name: p.name });
  if (focus) {
    focusHeading(document.getElementById('patient-title'));
  }
}

async function showStudy(patientId, studyId, focus) {
  const s = await api('GET', `/api/v1/proxy/studies/${encodeURIComponent(studyId)}`);
  signedIn = true;
  document.getElementById('study-back').setAttribute('href', `#patient/${patientId}`);
  document.getElementById('study-title').textContent = s.description;
  const body = document.getElementById('study-body');
  body.replaceChildren(el('div', { class: 'card' },
    el('p', { class: `stage-label stage-${s.stage}` }, s.stage_label || ''),
    el('p', { class: 'explanation' }, s.stage_explanation || ''), timeline(s)));
  const r = s.report;
  if (r) {
    body.append(
      el('section', { class: 'card', 'aria-labelledby': 'h-impression' }, el('h2', { id: 'h-impression' }, t('Impression')),
        el('p', { class: 'prose' }, r.impression)),
      el('section', { class: 'card', 'aria-labelledby': 'h-findings' }, el('h2', { id: 'h-findings' }, t('Findings')),
        el('p', { class: 'prose' }, r.findings)),
      el('section', { class: 'card', 'aria-labelledby': 'h-details' }, el('h2', { id: 'h-details' }, t('About this report')),
        el('dl', { class: 'facts' },
          el('dt', {}, t('Radiologist')), el('dd', {}, r.radiologist)),
        el('p', { class: 'shared' }, sharedSentence(r))));
    const d = s.discussion && s.discussion.physician;
    if (d && d.phone) {
      const phone = el('a', { href: `tel:${d.phone.replace(/[^+\d]/g, '')}` }, d.phone);
      body.append(el('p', {}, d.name ? tParts('To talk it over, call {name} at {phone}.', { name: d.name, phone })
        : tParts('To talk it over, call the doctor at {phone}.', { phone })));
    }
  }
  show('study');
  document.title = t('{name} – Results for someone you care for', { name: s.description });
  if (focus) {
    focusHeading(document.getElementById('study-title'));
  }
}

async function route(focus) {
  clearMessages();
  const h = window.location.hash.replace(/^#/, '');
  try {
    if (h.startsWith('study/')) {
      const [patientId, studyId] = h.slice(6).split('/');
      await showStudy(patientId, studyId, focus);
    } else if (h.startsWith('patient/')) {
      await showPatient(h.slice(8), focus);
    } else {
      await showPatients(focus);
    }
  } catch (err) {
    handleError(err);
  }
}

document.getElementById('signin-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearMessages();
  const code = document.getElementById('access-code');
  const birth = document.getElementById('birth-date');
  if (!code.value.trim() || !birth.value) {
    const missing = code.value.trim() ? birth : code;
    missing.setAttribute('aria-invalid', 'true');
    showError(missing === code ? t('Please enter your access code.') : t('Please enter your date of birth.'));
    missing.focus();
    return;
  }
  await signIn(ev.currentTarget, '/api/v1/proxy/session', { access_code: code.value.trim(), birth_date: birth.value }, {
    signedIn: async () => {
      signedIn = true;
      await route(true);
    },
    mismatch: () => {
      showError(t('That access code and date of birth do not match our records. Use your own code and your own date of birth.'));
      code.focus();
    },
    failed: handleError,
  });
});

signoutButton.addEventListener('click', () => signOut((message) => {
  signedIn = false;
  showSignin(message);
}));
document.getElementById('retry').addEventListener('click', () => route(true));
window.addEventListener('hashchange', () => route(true));
// The choice is kept in the portal_lang cookie; a proxy has no saved language of their own.
offerLanguages(async () => {});
loadLanguage().then(() => route(false));
