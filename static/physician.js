// The referring physician's page: sign in, the worklist (awaiting review first, overdue marked),
// a study's full report, release with an optional note, hold with a reason, and the patients'
// requests to talk their results over.
import {
  api, ApiError, el, announce, showError, showFailure, clearMessages, focusHeading, formatDate,
  formatDateTime, localInputToIso, timeEl, setBusy, signIn, signinShown, signOut, t, tParts, loadLanguage,
  offerLanguages,
} from './common.js';
import { answerForm } from './answer_form.js';

const signinView = document.getElementById('signin-view');
const appView = document.getElementById('app-view');
const signoutButton = document.getElementById('signout');
let signedIn = false;
let selected = null;

// Texts are looked up when shown (t), once the page's language is loaded.
const GROUPS = () => [
  ['awaiting_review', t('Waiting for your review'), t('Nothing is waiting for your review.')],
  ['held', t('On hold'), t('No reports on hold.')],
  ['released', t('Released'), t('Nothing released yet.')],
];

function priorityName(p) {
  return { routine: t('Routine'), urgent: t('Urgent'), stat: t('STAT') }[p] || p;
}

function showApp() {
  document.getElementById('retry-view').hidden = true;
  signinView.hidden = true;
  appView.hidden = false;
  signoutButton.hidden = false;
}

// Nothing of any patient stays in the page once signed out or the session ended.
function forget() {
  document.getElementById('worklist').replaceChildren();
  document.getElementById('detail-title').textContent = t('Choose a study');
  document.getElementById('detail-body').replaceChildren(el('p', { class: 'intro' },
    t('Pick a study from the worklist to read its report, release it or hold it.')));
  document.getElementById('detail').classList.add('empty');
  document.getElementById('requests').replaceChildren();
}

function showSignin(message) {
  forget();
  signedIn = false;
  selected = null;
  document.getElementById('retry-view').hidden = true;
  appView.hidden = true;
  signinView.hidden = false;
  signoutButton.hidden = true;
  signinShown(message, t('Physician sign-in – Results portal'));
}

function handleError(err) {
  if (err instanceof ApiError && err.status === 401) {
    showSignin(signedIn ? t('Your session has ended. Please sign in again.') : '');
    return;
  }
  if (err instanceof ApiError && err.status === 403 && !signedIn) {
    showSignin(t('This page is for physicians. Please sign in with your physician account.'));
    return;
  }
  showFailure(err);
  // Nothing could be shown yet: offer a way to try again rather than an empty page.
  document.getElementById('retry-view').hidden = !(signinView.hidden && appView.hidden);
}

function badges(s) {
  const out = [];
  if (s.overdue) {
    out.push(el('span', { class: 'badge overdue' }, t('Overdue')));
  }
  if (s.state === 'held') {
    out.push(el('span', { class: 'badge held' }, t('On hold')));
  } else if (s.state === 'released') {
    out.push(el('span', { class: 'badge released' }, t('Released')));
  } else if (s.state === 'awaiting_review') {
    out.push(el('span', { class: 'badge waiting' }, t('Awaiting review')));
  }
  if (s.priority && s.priority !== 'routine') {
    out.push(el('span', { class: 'badge urgent' }, priorityName(s.priority)));
  }
  return out;
}

async function loadWorklist() {
  const data = await api('GET', '/api/v1/physician/worklist?state=all');
  signedIn = true;
  const studies = data.studies || [];
  const nav = document.getElementById('worklist');
  nav.replaceChildren();
  for (const [state, title, empty] of GROUPS()) {
    // The server lists the oldest waiting first; overdue ones go to the very top.
    const items = studies.filter((s) => s.state === state);
    items.sort((a, b) => Number(Boolean(b.overdue)) - Number(Boolean(a.overdue)));
    const id = `group-${state}`;
    nav.append(el('h2', { id, class: 'group-title' }, `${title} (${items.length})`));
    if (!items.length) {
      nav.append(el('p', { class: 'small' }, empty));
      continue;
    }
    const ul = el('ul', { class: 'worklist', 'aria-labelledby': id });
    for (const s of items) {
      ul.append(el('li', {}, el('a', {
        class: 'work-item', href: `#study/${s.id}`, 'data-study': s.id,
        'aria-current': selected === s.id ? 'true' : null,
      },
      el('span', { class: 'title' }, `${s.patient.name} – ${s.description}`),
      el('span', { class: 'block small' }, badges(s), t('{accession} · final report ', { accession: s.accession }), timeEl(s.final_at)))));
    }
    nav.append(ul);
  }
}

function facts(study) {
  const p = study.patient || {};
  return el('dl', { class: 'facts card' },
    el('dt', {}, t('Patient')), el('dd', {}, t('{name} (MRN {mrn}, born {birth})', { name: p.name, mrn: p.mrn, birth: p.birth_date })),
    el('dt', {}, t('Study')), el('dd', {}, `${study.modality} · ${study.accession} · ${priorityName(study.priority)}`),
    el('dt', {}, t('Final report')), el('dd', {}, study.final_at ? timeEl(study.final_at) : t('not yet')));
}

// The report's status as the physician reads it.
function reportStatus(status) {
  return { preliminary: t('preliminary'), final: t('final'), amended: t('amended') }[status] || status;
}

function releaseInfo(study) {
  const r = study.release;
  if (!r) {
    return null;
  }
  const box = el('div', { class: 'done-note' });
  const values = { when: timeEl(r.released_at), version: r.version, name: r.released_by };
  if (r.how === 'policy') {
    box.append(...tParts('Released automatically on {when} by the release policy (version {version}).', values));
  } else {
    box.append(...(r.released_by ? tParts('Released to the patient by {name} on {when} (version {version}).', values)
      : tParts('Released to the patient by a physician on {when} (version {version}).', values)));
  }
  if (r.note) {
    box.append(el('span', { class: 'block' }, tParts('Note to the patient: {note}', { note: el('q', {}, r.note) })));
  }
  return box;
}

function holdInfo(study) {
  const h = study.hold;
  if (!h) {
    return null;
  }
  // When the hold ends the sweep releases the report only where the policy would have by then
  // (release_policy.auto_release_at); otherwise it waits for the physician.
  const due = study.release_policy && study.release_policy.auto_release_at;
  let after;
  if (!h.ends_at) {
    after = t('No automatic release will happen; release it yourself when ready.');
  } else if (due) {
    const at = new Date(Math.max(Date.parse(due), Date.parse(h.ends_at))).toISOString();
    after = tParts('The hold ends {ends}; the release policy then shares the report automatically (from {from}) unless you release it first.', { ends: timeEl(h.ends_at), from: timeEl(at) });
  } else {
    after = tParts('The hold ends {ends}. No automatic release follows: the report waits for you to release it.', { ends: timeEl(h.ends_at) });
  }
  const codes = reasonCodes();
  return el('div', { class: 'callout' },
    h.placed_at ? tParts('{onHold} since {when}: {reason}', { onHold: el('strong', {}, t('On hold')), when: timeEl(h.placed_at), reason: h.reason })
      : tParts('{onHold}: {reason}', { onHold: el('strong', {}, t('On hold')), reason: h.reason }),
    h.reason_code ? ` (${codes[h.reason_code] || h.reason_code})` : '',
    el('span', { class: 'block' }, after));
}

// The grounds a hold may rest on (45 CFR 171.201 asks which), as the API names them.
function reasonCodes() {
  return {
    harm_risk: t('Risk of harm to the patient'),
    patient_request: t('The patient asked to wait'),
    data_believed_wrong: t('The report is believed to be wrong'),
    other: t('Other'),
  };
}

function releaseForm(study) {
  const form = el('form', { class: 'card form', id: 'release-form', novalidate: true },
    el('h3', {}, t('Release to the patient')),
    el('div', { class: 'field' },
      el('label', { for: 'release-note' }, t('Note to the patient (optional)')),
      el('p', { class: 'hint', id: 'release-note-hint' }, t('Shown above the report. Plain language helps.')),
      el('textarea', { id: 'release-note', rows: '4', maxlength: '4000', 'aria-describedby': 'release-note-hint' })),
    el('button', { type: 'submit', class: 'primary' }, t('Release to patient')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessages();
    const note = form.querySelector('textarea').value.trim();
    setBusy(form, true);
    try {
      await api('POST', `/api/v1/physician/studies/${study.id}/release`, note ? { note } : {});
      await refresh(study.id);
      announce(t('Report released to {name}.', { name: study.patient.name }));
      focusHeading(document.getElementById('detail-title'));
    } catch (err) {
      setBusy(form, false);
      handleError(err);
    }
  });
  return form;
}

function holdForm(study) {
  const form = el('form', { class: 'card form', id: 'hold-form', novalidate: true },
    el('h3', {}, t('Hold')),
    el('div', { class: 'field' },
      el('label', { for: 'hold-reason' }, t('Reason for holding')),
      el('p', { class: 'hint', id: 'hold-reason-hint' },
        t('The patient sees that the report is on hold, never why. The reason is kept in the audit log and shown to you and to the clinic’s administrators in the compliance report.')),
      el('textarea', { id: 'hold-reason', rows: '3', maxlength: '2000', required: true, 'aria-describedby': 'hold-reason-hint' })),
    el('div', { class: 'field' },
      el('label', { for: 'hold-code' }, t('Grounds')),
      el('select', { id: 'hold-code' },
        Object.entries(reasonCodes()).map(([code, text]) => el('option', { value: code, selected: code === 'other' ? true : null }, text)))),
    el('div', { class: 'field' },
      el('label', { for: 'hold-until' }, t('Hold until (optional)')),
      el('p', { class: 'hint', id: 'hold-until-hint' },
        t('Without a date the site’s default length applies. No automatic release happens while the hold lasts.')),
      el('input', { id: 'hold-until', type: 'datetime-local', 'aria-describedby': 'hold-until-hint' })),
    el('button', { type: 'submit', class: 'danger' }, t('Hold report')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessages();
    const field = form.querySelector('textarea');
    const reason = field.value.trim();
    if (!reason) {
      field.setAttribute('aria-invalid', 'true');
      showError(t('Please give a reason for holding the report.'));
      field.focus();
      return;
    }
    field.removeAttribute('aria-invalid');
    setBusy(form, true);
    try {
      const body = { reason, reason_code: form.querySelector('#hold-code').value };
      const until = form.querySelector('#hold-until').value;
      if (until) {
        body.until = localInputToIso(until);
      }
      await api('POST', `/api/v1/physician/studies/${study.id}/hold`, body);
      await refresh(study.id);
      announce(t('Report on hold.'));
      focusHeading(document.getElementById('detail-title'));
    } catch (err) {
      setBusy(form, false);
      handleError(err);
    }
  });
  return form;
}

async function loadStudy(id) {
  const study = await api('GET', `/api/v1/physician/studies/${encodeURIComponent(id)}`);
  selected = study.id;
  document.getElementById('detail').classList.remove('empty');
  document.getElementById('detail-title').textContent = `${study.patient.name} – ${study.description}`;
  const body = document.getElementById('detail-body');
  body.replaceChildren();
  const listed = document.querySelector(`.work-item[data-study="${study.id}"]`);
  for (const a of document.querySelectorAll('.work-item')) {
    a.removeAttribute('aria-current');
  }
  if (listed) {
    listed.setAttribute('aria-current', 'true');
  }
  body.append(facts(study));
  const info = [holdInfo(study), releaseInfo(study)].filter(Boolean);
  body.append(...info);
  if (study.report) {
    const r = study.report;
    body.append(el('section', { class: 'card', 'aria-labelledby': 'h-report' },
      el('h3', { id: 'h-report' }, t('Report version {version} ({status}), signed by {name} on ', { version: r.version, status: reportStatus(r.status), name: r.radiologist }), timeEl(r.signed_at)),
      el('h4', {}, t('Impression')), el('p', { class: 'prose' }, r.impression),
      el('h4', {}, t('Findings')), el('p', { class: 'prose' }, r.findings)));
  } else {
    body.append(el('p', {}, t('No final report yet.')));
  }
  if (study.state === 'awaiting_review' || study.state === 'held') {
    const actions = el('div', { class: 'actions' }, releaseForm(study));
    if (study.state !== 'held') {
      actions.append(holdForm(study));
    }
    body.append(actions);
  }
  document.title = t('{name} – {exam} – Results portal', { name: study.patient.name, exam: study.description });
}

// A request's badge: its class and its word, looked up when shown (the catalogue arrives late).
function requestState(state) {
  return {
    open: ['waiting', t('Open')],
    contacted: ['waiting', t('Contacted')],
    scheduled: ['released', t('Scheduled')],
    closed: ['released', t('Closed')],
  }[state] || ['waiting', state];
}

// What the patient reads on their page: the state, the time of a scheduled talk and this message.
function requestAnswerForm(r) {
  return answerForm(r, {
    path: `/api/v1/physician/discussion-requests/${encodeURIComponent(r.id)}/answer`,
    saved: async (state) => {
      await loadRequests();
      announce(t('Request from {name} saved: {state}.', { name: r.patient.name, state: requestState(state)[1] }));
      focusHeading(document.getElementById('requests-title'));
    },
    failed: handleError,
  });
}

async function loadRequests() {
  const data = await api('GET', '/api/v1/physician/discussion-requests');
  const ul = document.getElementById('requests');
  ul.replaceChildren();
  // The server lists the requests still to answer first, oldest first, then the closed ones.
  const list = data.requests || [];
  if (!list.length) {
    ul.append(el('li', { class: 'small' }, t('No requests yet.')));
  }
  for (const r of list) {
    const [badge, label] = requestState(r.state);
    const times = (r.preferred_times || []).map((at) => el('li', {}, timeEl(at)));
    ul.append(el('li', { class: 'card request', 'data-request': r.id },
      el('h3', {}, `${r.patient.name} – ${r.description}`),
      el('p', { class: 'small' }, el('span', { class: `badge ${badge}` }, label),
        tParts('Asked on {when} · {accession} · about report version {version}', { when: timeEl(r.created_at), accession: r.accession, version: r.report_version })),
      r.state === 'scheduled' && r.scheduled_for ? el('p', {}, tParts('Discussion scheduled for {when}.', { when: timeEl(r.scheduled_for) })) : null,
      times.length ? [el('p', {}, t('Times that suit the patient:')), el('ul', {}, times)] : el('p', {}, t('No preferred times given.')),
      r.message ? el('p', {}, tParts('Message: {message}', { message: el('q', {}, r.message) })) : null,
      r.reply ? el('p', {}, tParts('Your office’s message to the patient: {message}', { message: el('q', {}, r.reply) })) : null,
      el('p', {}, r.patient.email ? [tParts('Contact: {email}', { email: el('a', { href: `mailto:${r.patient.email}` }, r.patient.email) }), ' · '] : '',
        el('a', { href: `#study/${r.study_id}`, 'aria-label': t('Open the study of {name}', { name: r.patient.name }) }, t('Open the study'))),
      r.state === 'closed' ? null : requestAnswerForm(r)));
  }
}

// Reloads everything after a change, keeping the chosen study open.
async function refresh(id) {
  await loadWorklist();
  await loadRequests();
  if (id) {
    await loadStudy(id);
  }
}

function routeId() {
  const h = window.location.hash.replace(/^#/, '');
  return h.startsWith('study/') ? h.slice(6) : null;
}

async function start(focus) {
  clearMessages();
  try {
    await loadWorklist();
    await loadRequests();
    showApp();
    if (routeId()) {
      await loadStudy(routeId());
    }
    if (focus) {
      focusHeading(document.getElementById(routeId() ? 'detail-title' : 'app-title'));
    }
    if (!routeId()) {
      document.title = t('Worklist – Results portal');
    }
  } catch (err) {
    handleError(err);
  }
}

document.getElementById('signin-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearMessages();
  const form = ev.currentTarget;
  const id = document.getElementById('physician-id');
  const pw = document.getElementById('password');
  for (const f of [id, pw]) {
    f.removeAttribute('aria-invalid');
  }
  const missing = [id, pw].find((f) => !f.value.trim());
  if (missing) {
    missing.setAttribute('aria-invalid', 'true');
    showError(missing === id ? t('Please enter your physician id.') : t('Please enter your password.'));
    missing.focus();
    return;
  }
  await signIn(form, '/api/v1/physician/session', { physician_id: id.value.trim(), password: pw.value }, {
    signedIn: async () => {
      signedIn = true;
      await start(true);
    },
    mismatch: () => {
      showError(t('That physician id and password do not match our records.'));
      pw.value = '';
      id.focus();
    },
    failed: handleError,
  });
});

signoutButton.addEventListener('click', () => signOut(showSignin));

window.addEventListener('hashchange', async () => {
  const id = routeId();
  if (!id || !signedIn) {
    return;
  }
  clearMessages();
  try {
    await loadStudy(id);
    focusHeading(document.getElementById('detail-title'));
  } catch (err) {
    handleError(err);
  }
});

document.getElementById('retry').addEventListener('click', () => start(true));

// The physician's choice stays in this browser (the portal_lang cookie).
offerLanguages(async () => {});
loadLanguage().then(() => start(false));
