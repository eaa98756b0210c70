// The patient's page: sign in with access code and birth date, follow each exam through its
// stages, read a report once the doctor has released it, and ask for a call to talk it over.
// Report content only ever comes from the API after release; nothing here guesses at it.
import {
  api, ApiError, el, announce, showError, showFailure, clearMessages, focusHeading, formatDate,
  formatDateTime, formatDayHour, formatShortDate, timeEl, localInputToIso, setBusy, signIn,
  signinShown, signOut, t, tParts, loadLanguage, offerLanguages, offerSwitch,
} from './common.js';

// The lifecycle in order, with the short names the progress tracker shows. Texts are looked up
// when shown (t), once the page's language is loaded.
const STAGES = [
  ['ordered', () => t('Ordered')],
  ['scheduled', () => t('Booked')],
  ['checked_in', () => t('Checked in')],
  ['imaging', () => t('Images taken')],
  ['awaiting_read', () => t('Waiting for a radiologist')],
  ['reading', () => t('Radiologist reading')],
  ['physician_review', () => t('Doctor reviewing')],
  ['available', () => t('Results ready')],
];

const MILESTONES = {
  report_final: () => t('The radiologist’s report is finished'),
  physician_review: () => t('The radiologist’s report is finished'),
  available: () => t('Your results are ready to read'),
  reading: () => t('A radiologist starts reading your images'),
  awaiting_read: () => t('Your images are taken'),
};

const MODALITIES = {
  CT: () => t('CT scan'), MR: () => t('MRI scan'), XR: () => t('X-ray exam'), US: () => t('Ultrasound'),
  MG: () => t('Mammogram'), NM: () => t('Nuclear medicine scan'), PET: () => t('PET scan'),
};

const views = {
  retry: document.getElementById('retry-view'),
  signin: document.getElementById('signin-view'),
  list: document.getElementById('list-view'),
  study: document.getElementById('study-view'),
  access: document.getElementById('access-view'),
};
const signoutButton = document.getElementById('signout');
let signedIn = false;
let currentRoute = null;

function show(name) {
  for (const [k, v] of Object.entries(views)) {
    v.hidden = k !== name;
  }
  signoutButton.hidden = name === 'signin' || name === 'retry';
}

// Every API failure goes through here: an ended session goes back to sign-in with a message.
function handleError(err) {
  if (err instanceof ApiError && err.status === 401) {
    const wasSignedIn = signedIn;
    signedIn = false;
    showSignin(wasSignedIn ? t('For your safety you were signed out. Please sign in again to continue.') : '');
    return;
  }
  showFailure(err);
  // Nothing could be shown yet: offer a way to try again rather than an empty page.
  if (Object.values(views).every((v) => v.hidden)) {
    show('retry');
    signoutButton.hidden = true;
  }
}

// Nothing of the patient's stays in the page once signed out or the session ended.
function forget() {
  document.getElementById('studies').replaceChildren();
  document.getElementById('study-body').replaceChildren();
  document.getElementById('study-title').textContent = '';
  document.getElementById('access-entries').replaceChildren();
  document.getElementById('proxies').replaceChildren();
}

function showSignin(message) {
  forget();
  currentRoute = null;
  show('signin');
  signinShown(message, t('Sign in – Your imaging results'));
}

// ---- the progress tracker and estimates ----

function stageIndex(stage) {
  return STAGES.findIndex(([s]) => s === stage);
}

function tracker(study) {
  const reached = new Map((study.timeline || []).map((t) => [t.stage, t.at]));
  const current = stageIndex(study.stage);
  const list = el('ol', { class: 'tracker', 'aria-label': t('Progress of this exam') });
  STAGES.forEach(([stage, name], i) => {
    let state = 'todo';
    if (study.stage === 'cancelled') {
      state = reached.has(stage) ? 'done' : 'todo';
    } else if (i < current) {
      // A walk-in is never booked: that step was skipped, not done. Every later step is implied
      // by the ones after it even when the RIS sent no event for it.
      state = stage === 'scheduled' && !reached.has(stage) ? 'skipped' : 'done';
    } else if (i === current) {
      state = stage === 'available' ? 'done' : 'current';
    }
    const prefix = { done: t('Done: '), current: t('Now: '), todo: t('Still to come: '), skipped: t('Skipped: ') }[state];
    const at = reached.get(stage);
    list.append(el('li', { class: `step ${state}`, 'aria-current': i === current ? 'step' : null },
      el('span', { class: 'dot', 'aria-hidden': 'true' }),
      el('span', { class: 'step-name' }, el('span', { class: 'visually-hidden' }, prefix), name()),
      at ? el('span', { class: 'step-time' }, timeEl(at, formatShortDate))
        : state === 'skipped' ? el('span', { class: 'step-time' }, t('no booking')) : null));
  });
  return list;
}

function estimates(study) {
  const list = (study.estimates || []).filter((e) => e && (e.p50_at || e.summary));
  if (!list.length || study.stage === 'cancelled' || study.report_available) {
    return null;
  }
  const box = el('div', { class: 'estimates' }, el('h3', {}, t('When to expect the next steps')));
  const ul = el('ul', {});
  for (const e of list) {
    const what = MILESTONES[e.milestone] ? MILESTONES[e.milestone]() : t('Next step');
    const strong = el('strong', {}, what);
    const likely = e.p50_at ? timeEl(e.p50_at, formatDayHour) : null;
    const surely = e.p90_at ? timeEl(e.p90_at, formatDayHour) : null;
    let line;
    if (likely && surely) {
      line = tParts('{what}: most likely by {likely}, and almost certainly by {surely}.', { what: strong, likely, surely });
    } else if (likely) {
      line = tParts('{what}: most likely by {likely}.', { what: strong, likely });
    } else {
      // Too few past exams waited this long, or the results wait for a report no one can time
      // yet: the server says which rather than guessing, and there is no estimate to qualify.
      line = tParts('{what}: we cannot say yet.', { what: strong });
    }
    const li = el('li', {}, line);
    const basis = e.summary || (e.sample_size ? t('Based on how long {count} similar exams took recently.', { count: e.sample_size }) : '');
    if (basis && likely) {
      li.append(el('span', { class: 'small block' }, t('{basis} It is an estimate, not a promise.', { basis })));
    } else if (basis) {
      li.append(el('span', { class: 'small block' }, basis));
    }
    ul.append(li);
  }
  box.append(ul);
  return box;
}

// What happens next while the doctor has the report: the site's policy may share it without them
// (auto_release_at, from the server), and a hold delays that until the hold ends.
function reviewCallout(study) {
  const at = study.auto_release_at;
  if (!at) {
    return el('p', { class: 'callout' },
      t('You will be able to read the report here once your doctor releases it. Until then it stays with your doctor.'));
  }
  if (study.held) {
    return el('p', { class: 'callout' },
      tParts('If your doctor does not release it sooner, it will be shared with you automatically on {when}.', { when: timeEl(at, formatDayHour) }));
  }
  return el('p', { class: 'callout' },
    tParts('You will be able to read the report here once your doctor releases it, or automatically on {when} unless your doctor puts it on hold.', { when: timeEl(at, formatDayHour) }));
}

// The parts of a study every patient sees, released or not: no report content.
function studySummary(study, headingLevel, compact) {
  const h = el(`h${headingLevel}`, { class: 'study-name' }, study.description);
  const kind = MODALITIES[study.modality] ? MODALITIES[study.modality]() : study.modality;
  const ordered = (study.timeline || []).find((step) => step.stage === 'ordered');
  const meta = el('p', { class: 'meta' }, ordered ? tParts('{kind} · ordered {date}', { kind, date: timeEl(ordered.at, formatDate) }) : kind);
  const parts = [h, meta,
    el('p', { class: `stage-label stage-${study.stage}` }, study.stage_label || ''),
    el('p', { class: 'explanation' }, study.stage_explanation || '')];
  if (study.stage === 'scheduled' && study.scheduled_for) {
    parts.push(el('p', { class: 'appointment' }, tParts('Your appointment: {when}', { when: timeEl(study.scheduled_for, formatDayHour) })));
  }
  if (study.stage === 'physician_review') {
    parts.push(reviewCallout(study));
  }
  if (compact) {
    return parts;
  }
  parts.push(tracker(study));
  const est = estimates(study);
  if (est) {
    parts.push(est);
  }
  return parts;
}

// ---- views ----

async function showList(focus) {
  const data = await api('GET', '/api/v1/patient/studies');
  signedIn = true;
  currentRoute = 'list';
  const ul = document.getElementById('studies');
  ul.replaceChildren();
  const studies = data.studies || [];
  document.getElementById('list-intro').textContent = studies.length
    ? t('Newest first. Each exam shows where it is now and what comes next.')
    : t('You have no exams yet. They appear here as soon as one is ordered for you.');
  for (const s of studies) {
    const li = el('li', { class: 'card study', 'data-study': s.id }, studySummary(s, 2));
    if (s.release_preference) {
      li.append(preferenceForm(s));
    }
    if (s.report_available) {
      li.append(el('p', {}, el('a', { class: 'button primary', href: `#study/${s.id}`, 'aria-label': t('Read your results for {exam}', { exam: s.description }) },
        t('Read your results'))));
    }
    ul.append(li);
  }
  // A patient who also follows someone's results (a parent, a caregiver) switches to them here.
  await offerSwitch('/api/v1/patient/family-access', document.getElementById('family-access-button'), '/proxy.html', handleError);
  show('list');
  document.title = t('Your exams – Your imaging results');
  if (focus) {
    focusHeading(document.getElementById('list-title'));
  }
}

// Where the site lets patients choose (release_preference, docs/release-policies.md): share the
// report as soon as it is final, or wait for the doctor for up to some days, or the site's usual
// way. The choice can be changed until the report is final.
const PREFERENCE_LABELS = {
  site_default: () => t('The way my care site usually does it'),
  immediate: () => t('As soon as the report is final, even before my doctor has reviewed it'),
  wait_for_physician: () => t('After my doctor has reviewed it, or after a number of days if my doctor has not released it by then'),
};

function preferenceForm(study) {
  const p = study.release_preference;
  const name = `release-${study.id}`;
  const legendId = `pref-legend-${study.id}`;
  if (!p.can_change) {
    const choice = PREFERENCE_LABELS[p.release] ? PREFERENCE_LABELS[p.release]() : p.release;
    return el('p', { class: 'small' }, p.release === 'wait_for_physician' && p.wait_days
      ? t('When this report is shared with you: {choice} (up to {days} days). The report is final, so this can no longer be changed.', { choice, days: p.wait_days })
      : t('When this report is shared with you: {choice}. The report is final, so this can no longer be changed.', { choice }));
  }
  const max = p.max_wait_days || 30;
  const daysInput = el('input', { type: 'number', id: `pref-days-${study.id}`, min: '1', max: String(max), value: String(p.wait_days || Math.min(7, max)), inputmode: 'numeric' });
  const option = (value, extra) => el('div', { class: 'choice' },
    el('input', { type: 'radio', name, id: `${name}-${value}`, value, checked: p.release === value ? true : null }),
    el('label', { for: `${name}-${value}` }, PREFERENCE_LABELS[value]()), extra || null);
  const form = el('form', { class: 'preference', novalidate: true },
    el('fieldset', { 'aria-labelledby': legendId },
      el('legend', { id: legendId }, t('When should this report be shared with you?')),
      el('p', { class: 'hint' }, t('Your doctor can still put a hold on it. You can change this until the report is final.')),
      option('site_default'), option('immediate'),
      option('wait_for_physician', el('span', { class: 'block' },
        el('label', { for: daysInput.id }, t('Days to wait for my doctor (1 to {max}) ', { max })), daysInput))),
    el('button', { type: 'submit' }, t('Save my choice')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessages();
    const picked = form.querySelector(`input[name="${name}"]:checked`);
    const body = { release: picked ? picked.value : 'site_default' };
    if (body.release === 'wait_for_physician') {
      const days = Number(daysInput.value);
      if (!Number.isInteger(days) || days < 1 || days > max) {
        daysInput.setAttribute('aria-invalid', 'true');
        showError(t('Please give a whole number of days from 1 to {max}.', { max }));
        daysInput.focus();
        return;
      }
      daysInput.removeAttribute('aria-invalid');
      body.wait_days = days;
    }
    setBusy(form, true);
    try {
      await api('PUT', `/api/v1/patient/studies/${study.id}/preference`, body);
      await showList(false);
      announce(t('Your choice is saved.'));
    } catch (err) {
      setBusy(form, false);
      handleError(err);
    }
  });
  return form;
}

// The report's status as the patient reads it.
function reportStatus(status) {
  return { preliminary: t('preliminary'), final: t('final'), amended: t('amended') }[status] || status;
}

function reportSections(study) {
  const r = study.report;
  // released_by names a person only for a physician's release; a policy's is a description.
  const releaser = r.released_by_kind === 'physician' ? r.released_by : null;
  const physician = (study.discussion && study.discussion.physician && study.discussion.physician.name) || releaser || t('Your doctor');
  const body = [];
  const nav = el('nav', { class: 'toc', 'aria-label': t('Parts of this report') }, el('ul', {},
    r.physician_note ? el('li', {}, el('a', { href: '#sec-note' }, t('Note from {name}', { name: physician }))) : null,
    el('li', {}, el('a', { href: '#sec-impression' }, t('Impression'))),
    el('li', {}, el('a', { href: '#sec-findings' }, t('Findings'))),
    el('li', {}, el('a', { href: '#sec-details' }, t('About this report'))),
    study.discussion ? el('li', {}, el('a', { href: '#sec-talk' }, t('Talk it over'))) : null));
  body.push(nav);
  if (r.newer_version_pending) {
    body.push(el('p', { class: 'callout' },
      t('The radiologist has updated this report since it was shared with you. Your doctor is reviewing the update; you will see it here once they have.')));
  }
  if (r.amended) {
    body.push(el('p', { class: 'callout' },
      t('This report was corrected or added to (amended) after it was first written. You are reading the updated version.')));
  }
  if (r.physician_note) {
    body.push(el('section', { id: 'sec-note', class: 'card note', 'aria-labelledby': 'h-note' },
      el('h2', { id: 'h-note' }, t('A note from {name}', { name: releaser || physician })),
      el('p', { class: 'prose' }, r.physician_note)));
  }
  body.push(el('section', { id: 'sec-impression', class: 'card', 'aria-labelledby': 'h-impression' },
    el('h2', { id: 'h-impression' }, t('Impression')),
    el('p', { class: 'hint' }, t('The radiologist’s conclusion, in medical language.')),
    el('p', { class: 'prose' }, r.impression)));
  body.push(el('section', { id: 'sec-findings', class: 'card', 'aria-labelledby': 'h-findings' },
    el('h2', { id: 'h-findings' }, t('Findings')),
    el('p', { class: 'hint' }, t('What the radiologist saw on your images, in detail.')),
    el('p', { class: 'prose' }, r.findings)));
  const dl = el('dl', { class: 'facts' },
    el('dt', {}, t('Radiologist')), el('dd', {}, r.radiologist),
    el('dt', {}, t('Report signed')), el('dd', {}, timeEl(r.signed_at)),
    el('dt', {}, t('Version')), el('dd', {}, `${r.version} (${reportStatus(r.status)})`));
  const details = el('section', { id: 'sec-details', class: 'card', 'aria-labelledby': 'h-details' },
    el('h2', { id: 'h-details' }, t('About this report')), dl, el('p', { class: 'shared' }, sharedSentence(r)));
  const earlier = Array.isArray(r.history) ? r.history.filter((h) => h.version !== r.version) : [];
  if (earlier.length) {
    details.append(el('h3', {}, t('Earlier versions shared with you')), el('ul', {}, earlier.map((h) =>
      el('li', {}, versionSentence(h)))));
  }
  body.push(details);
  if (study.discussion) {
    body.push(discussionSection(study));
  }
  return body;
}

// How a version came to be shared, in one sentence: by whom (released_by_kind "physician"), or
// automatically under the site's policy or at the patient's own choice (docs/release-policies.md).
function sharedSentence(r) {
  const when = timeEl(r.released_at);
  if (r.released_by_kind === 'site_policy') {
    return tParts('Shared with you on {when} automatically, under your imaging centre’s policy.', { when });
  }
  if (r.released_by_kind === 'patient_preference') {
    return tParts('Shared with you on {when} automatically, as you chose.', { when });
  }
  return r.released_by && r.released_by_kind === 'physician' ? tParts('Shared with you on {when} by {name}.', { when, name: r.released_by })
    : tParts('Shared with you on {when} by your doctor.', { when });
}

function versionSentence(h) {
  const values = { version: h.version, status: reportStatus(h.status), when: timeEl(h.released_at), name: h.released_by };
  if (h.released_by_kind === 'site_policy') {
    return tParts('Version {version} ({status}), shared with you on {when} automatically, under your imaging centre’s policy.', values);
  }
  if (h.released_by_kind === 'patient_preference') {
    return tParts('Version {version} ({status}), shared with you on {when} automatically, as you chose.', values);
  }
  return h.released_by && h.released_by_kind === 'physician' ? tParts('Version {version} ({status}), shared with you on {when} by {name}.', values)
    : tParts('Version {version} ({status}), shared with you on {when} by your doctor.', values);
}

function discussionSection(study) {
  const d = study.discussion;
  const p = d.physician || {};
  const sec = el('section', { id: 'sec-talk', class: 'card talk', 'aria-labelledby': 'h-talk' },
    el('h2', { id: 'h-talk' }, p.name ? t('Talk it over with {name}', { name: p.name }) : t('Talk it over with your doctor')),
    el('p', { class: 'lead' }, d.prompt || t('Your doctor has reviewed your results. Schedule a time to talk them over.')));
  const ways = el('ul', { class: 'ways' });
  if (p.scheduling_url && /^https?:\/\//i.test(p.scheduling_url)) {
    ways.append(el('li', {}, el('a', { class: 'button primary', href: p.scheduling_url, target: '_blank', rel: 'noopener noreferrer', 'aria-label': t('Book a time online (opens in a new tab)') },
      t('Book a time online'))));
  }
  if (p.phone) {
    ways.append(el('li', {}, tParts('Or call {phone}.', { phone: el('a', { href: `tel:${p.phone.replace(/[^+\d]/g, '')}` }, p.phone) })));
  }
  sec.append(ways);
  const req = d.request || { state: 'none', may_request: true };
  const stateBox = el('div', { id: 'request-state' });
  sec.append(stateBox);
  // Two whole sentences: when the patient asked, then where the office has got to.
  const asked = () => (req.created_at ? tParts('You asked for a call back on {when}.', { when: timeEl(req.created_at) }) : [t('You asked for a call back.')]);
  if (req.state === 'open') {
    stateBox.append(el('p', { class: 'done-note' }, asked(), ' ',
      p.name ? t('The office of {name} will contact you.', { name: p.name }) : t('Your doctor’s office will contact you.')));
  } else if (req.state === 'contacted') {
    let contacted;
    if (req.answered_at) {
      const when = timeEl(req.answered_at);
      contacted = p.name ? tParts('The office of {name} was in touch with you on {when}.', { name: p.name, when })
        : tParts('Your doctor’s office was in touch with you on {when}.', { when });
    } else {
      contacted = p.name ? t('The office of {name} has been in touch with you.', { name: p.name }) : t('Your doctor’s office has been in touch with you.');
    }
    stateBox.append(el('p', { class: 'done-note' }, asked(), ' ', contacted));
  } else if (req.state === 'scheduled') {
    const when = timeEl(req.scheduled_for);
    stateBox.append(el('p', { class: 'done-note' },
      p.name ? tParts('Your talk with {name} is booked for {when}.', { name: p.name, when }) : tParts('Your talk with your doctor is booked for {when}.', { when })));
  } else if (req.state === 'closed') {
    stateBox.append(el('p', {}, asked(), ' ',
      p.name ? t('The office of {name} has closed this request.', { name: p.name }) : t('Your doctor’s office has closed this request.')));
  }
  if (req.reply) {
    stateBox.append(el('div', { class: 'reply' },
      el('h3', {}, p.name ? t('Message from the office of {name}', { name: p.name }) : t('Message from your doctor’s office')),
      el('p', { class: 'prose' }, req.reply)));
  }
  if (req.state !== 'none' && req.may_request) {
    stateBox.append(el('p', {}, t('Your report has been updated since you asked. You can ask to talk over the updated report below.')));
  }
  if (req.may_request) {
    sec.append(requestForm(study, req.url));
  }
  return sec;
}

function requestForm(study, url) {
  const times = [1, 2, 3].map((n) => el('div', { class: 'field' },
    el('label', { for: `pref-${n}` }, t('Choice {n}', { n })),
    el('input', { id: `pref-${n}`, name: `pref-${n}`, type: 'datetime-local' })));
  const form = el('form', { id: 'discussion-form', class: 'form', novalidate: true },
    el('h3', {}, t('Or ask the office to call you')),
    el('fieldset', {}, el('legend', {}, t('Times that suit you (optional)')), el('div', { class: 'times' }, times)),
    el('div', { class: 'field' },
      el('label', { for: 'discussion-message' }, t('Anything you would like to ask (optional)')),
      el('textarea', { id: 'discussion-message', name: 'message', rows: '4', maxlength: '2000' })),
    el('button', { type: 'submit', class: 'primary' }, t('Ask for a call back')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessages();
    const preferred = times.map((f) => localInputToIso(f.querySelector('input').value)).filter(Boolean);
    const message = form.querySelector('textarea').value.trim();
    const body = { preferred_times: preferred };
    if (message) {
      body.message = message;
    }
    setBusy(form, true);
    try {
      await api('POST', url || `/api/v1/patient/studies/${study.id}/discussion-requests`, body);
      await showStudy(study.id, false);
      announce(t('Your request was sent. The office will contact you.'));
      focusHeading(document.getElementById('h-talk'));
    } catch (err) {
      setBusy(form, false);
      handleError(err);
    }
  });
  return form;
}

async function showStudy(id, focus) {
  const study = await api('GET', `/api/v1/patient/studies/${encodeURIComponent(id)}`);
  signedIn = true;
  currentRoute = `study/${id}`;
  document.getElementById('study-title').textContent = study.description;
  const body = document.getElementById('study-body');
  body.replaceChildren();
  // Once the results are ready, the report matters more than the journey: no tracker then.
  const summary = el('div', { class: 'card' }, studySummary(study, 2, Boolean(study.report)).slice(1));
  body.append(summary);
  if (study.report) {
    body.append(...reportSections(study));
  }
  show('study');
  document.title = t('{exam} – Your imaging results', { exam: study.description });
  if (focus) {
    focusHeading(document.getElementById('study-title'));
  }
}

// ---- who has seen your record, and the people who can act for you (issue 16) ----

function proxyKind(kind) {
  return { guardian: t('Parent or guardian'), caregiver: t('Caregiver') }[kind] || kind;
}
let accessNext = null;

// One whole sentence per case, so that a translation agrees with every word it needs.
function accessSentence(e) {
  const name = e.actor;
  if (e.action === 'released_automatically') {
    return t('The report was shared with you automatically.');
  }
  if (e.action === 'hold_ended' && (e.actor_kind === 'automatic' || !name)) {
    return t('A hold on the report ended.');
  }
  if (e.actor_kind === 'patient') {
    return e.action === 'viewed' ? t('You opened the report.') : t('You acted on the report.');
  }
  if (e.actor_kind === 'staff') {
    return e.action === 'viewed' ? t('Clinic staff opened the report.') : t('Clinic staff acted on the report.');
  }
  if (e.actor_kind === 'physician') {
    return {
      viewed: t('{name} (your doctor) opened the report.', { name }),
      released: t('{name} (your doctor) shared the report with you.', { name }),
      hold_ended: t('{name} (your doctor) ended a hold on the report.', { name }),
    }[e.action] || t('{name} (your doctor) acted on the report.', { name });
  }
  if (e.actor_kind === 'proxy') {
    return e.action === 'viewed' ? t('{name} (acting for you) opened the report.', { name })
      : t('{name} (acting for you) acted on the report.', { name });
  }
  return t('{name} acted on the report.', { name });
}

function accessEntry(e) {
  return el('li', { class: 'card access-entry' },
    el('p', { class: 'access-what' }, accessSentence(e)),
    el('p', { class: 'meta' }, timeEl(e.at, formatDateTime), ` · ${e.description}`));
}

async function loadAccess(before) {
  const q = before ? `?before=${encodeURIComponent(before)}` : '';
  const data = await api('GET', `/api/v1/patient/access-log${q}`);
  const ul = document.getElementById('access-entries');
  if (!before) {
    ul.replaceChildren();
  }
  const entries = data.entries || [];
  if (!before && !entries.length) {
    ul.append(el('li', {}, t('Nobody has opened your reports yet.')));
  }
  ul.append(...entries.map(accessEntry));
  accessNext = data.next;
  document.getElementById('access-more').hidden = !accessNext;
}

function proxyItem(p) {
  const li = el('li', { class: 'proxy' },
    el('p', { class: 'access-what' }, p.name, ` · ${proxyKind(p.kind)}`),
    el('p', { class: 'meta' }, p.active
      ? (p.ends_at ? tParts('Can see your results until {date}.', { date: timeEl(p.ends_at, formatDate) }) : t('Can see your results.'))
      : (p.ended_at ? tParts('No longer has access (ended {date}).', { date: timeEl(p.ended_at, formatDate) }) : t('No longer has access.'))));
  if (p.active && p.kind === 'caregiver') {
    const button = el('button', { type: 'button', class: 'link-button', 'aria-label': t('End access for {name}', { name: p.name }) }, t('End access'));
    button.addEventListener('click', async () => {
      clearMessages();
      try {
        await api('DELETE', `/api/v1/patient/proxies/${encodeURIComponent(p.id)}`);
        announce(t('{name} can no longer see your results.', { name: p.name }));
        await loadProxies();
      } catch (err) {
        handleError(err);
      }
    });
    li.append(el('p', {}, button));
  }
  return li;
}

async function loadProxies() {
  const data = await api('GET', '/api/v1/patient/proxies');
  const ul = document.getElementById('proxies');
  const list = data.proxies || [];
  ul.replaceChildren(...(list.length ? list.map(proxyItem) : [el('li', {}, t('Nobody else can see your results.'))]));
}

async function showAccess(focus) {
  await loadAccess(null);
  await loadProxies();
  signedIn = true;
  currentRoute = 'access';
  show('access');
  document.title = t('Who has seen your record – Your imaging results');
  if (focus) {
    focusHeading(document.getElementById('access-title'));
  }
}

document.getElementById('access-more').addEventListener('click', async () => {
  clearMessages();
  try {
    await loadAccess(accessNext);
  } catch (err) {
    handleError(err);
  }
});

// ---- routing: #study/<id>, #access or the list; in-page links (#sec-...) leave the view alone ----

function routeOf(hash) {
  const h = (hash || '').replace(/^#/, '');
  if (h.startsWith('study/') || h === 'access') {
    return h;
  }
  if (h === '' || h === 'list') {
    return 'list';
  }
  return null;
}

async function route(focus) {
  const r = routeOf(window.location.hash);
  // Coming back from an in-page link to the view already shown keeps what was typed there.
  if (r === null || (r === currentRoute && views.signin.hidden)) {
    return;
  }
  clearMessages();
  try {
    if (r.startsWith('study/')) {
      await showStudy(r.slice(6), focus);
    } else if (r === 'access') {
      await showAccess(focus);
    } else {
      await showList(focus);
    }
  } catch (err) {
    handleError(err);
  }
}

document.getElementById('signin-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearMessages();
  const form = ev.currentTarget;
  const code = document.getElementById('access-code');
  const birth = document.getElementById('birth-date');
  const missing = [];
  for (const f of [code, birth]) {
    f.removeAttribute('aria-invalid');
    if (!f.value.trim()) {
      f.setAttribute('aria-invalid', 'true');
      missing.push(f);
    }
  }
  if (missing.length) {
    showError(missing[0] === code ? t('Please enter your access code.') : t('Please enter your date of birth.'));
    missing[0].focus();
    return;
  }
  await signIn(form, '/api/v1/session', { access_code: code.value.trim(), birth_date: birth.value }, {
    signedIn: async () => {
      signedIn = true;
      currentRoute = null;
      await route(true);
    },
    mismatch: () => {
      showError(t('That access code and date of birth do not match our records. Check both and try again.'));
      code.focus();
    },
    failed: handleError,
  });
});

signoutButton.addEventListener('click', () => signOut((message) => {
  signedIn = false;
  showSignin(message);
}));

document.getElementById('retry').addEventListener('click', () => {
  currentRoute = null;
  route(true);
});

document.getElementById('back-link').addEventListener('click', (ev) => {
  ev.preventDefault();
  window.location.hash = 'list';
});

window.addEventListener('hashchange', () => route(true));

// A signed-in patient's choice is saved with their record, so it follows them to any browser.
offerLanguages(async (code) => {
  if (signedIn) {
    await api('PUT', '/api/v1/patient/language', { language: code });
  }
});
loadLanguage().then(() => route(false));
