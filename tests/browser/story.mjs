// The whole story in Debian's chromium: a patient signs in and sees "your doctor is reviewing"
// with no report content; the physician signs in, holds one report, releases another with a
// note; the patient reads it and asks for a call; the physician sees the request. axe-core checks
// every page state at WCAG 2.1 AA; screenshots at desktop and phone sizes go to $SCREENSHOTS.
// Then the error paths a person meets: wrong sign-in, too many attempts, an ended session, the
// database down, the server gone. Run by tests/suites/browser.sh, which owns the server and the
// database; prints "ok - ..." lines and ends with "N passed, N failed".
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { AXE, AXE_TAGS, DESKTOP, PHONE, check, env, steps } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const BASE = env('PORTAL_URL');
const SHOTS = env('SCREENSHOTS');

// Unique words in the report, so their absence before release means something.
const FINDINGS = 'Lungs clear bilaterally (finding-word quokka). No pulmonary embolism. Heart size normal.';
const IMPRESSION = 'No acute abnormality in the chest (impression-word wombat).';
const NOTE = 'Good news: nothing worrying. Let us talk at your next visit (note-word numbat).';
const HOLD_REASON = 'Waiting for the comparison study from the other hospital.';
const DISCUSSION_MESSAGE = 'Can we talk about whether I need a follow-up scan?';
const REPLY_MESSAGE = 'We will call you from the clinic, number ending 0100. Have your questions ready.';
const PHYSICIAN_ID = 'BT-NPI-1';
const PHYSICIAN_PASSWORD = `browser-${Math.random().toString(36).slice(2)}-${Date.now()}`;
const BIRTH = '1985-12-10';

const { step, outside, finish } = steps();

// ---- seeding through the real ingest API ----

const RIS = env('RIS_TOKEN');
let seq = 0;

async function ingest(kind, body) {
  const res = await fetch(`${BASE}/api/v1/ingest/${kind}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${RIS}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const data = await res.json();
  if (res.status >= 300) {
    throw new Error(`ingest ${kind} answered ${res.status}: ${JSON.stringify(data)}`);
  }
  return data;
}

// A datetime-local input's value for an instant, in the browser's time zone (UTC: contextOptions).
function localInput(iso) {
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
}

function hoursAgo(h) {
  return new Date(Date.now() - h * 3600 * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

async function event(type, accession, modality, description, hours, extra = {}) {
  seq++;
  return ingest('events', {
    event_id: `bt-${accession}-${type}-${seq}`,
    type,
    occurred_at: hoursAgo(hours),
    patient: { mrn: 'BT-MRN-1', name: 'Ada Lovelace', birth_date: BIRTH, email: 'ada@example.org' },
    study: { accession, modality, description, priority: 'routine', site: 'main' },
    referring_physician: {
      id: PHYSICIAN_ID, name: 'Dr. Grace Hopper', phone: '+1 555 0100', scheduling_url: 'https://clinic.example/schedule',
    },
    ...extra,
  });
}

async function seed() {
  let code = null;
  const keep = (r) => {
    if (r.access_code) {
      code = r.access_code;
    }
    return r;
  };
  const ct = ['BT-CT', 'CT', 'CT chest with contrast'];
  keep(await event('ordered', ...ct, 72));
  await event('scheduled', ...ct, 70, { scheduled_for: hoursAgo(26) });
  await event('arrived', ...ct, 26.2);
  await event('exam_started', ...ct, 26);
  await event('exam_completed', ...ct, 25.6);
  await event('read_started', ...ct, 22);
  await ingest('reports', {
    event_id: 'bt-ct-report', accession: 'BT-CT', status: 'final', findings: FINDINGS, impression: IMPRESSION,
    radiologist: { name: 'Dr. Marie Curie' }, signed_at: hoursAgo(20),
  });
  const us = ['BT-US', 'US', 'US abdomen complete'];
  await event('ordered', ...us, 50);
  await event('arrived', ...us, 30);
  await event('exam_started', ...us, 29.8);
  await event('exam_completed', ...us, 29.5);
  await ingest('reports', {
    event_id: 'bt-us-report', accession: 'BT-US', status: 'final', findings: 'Liver normal (finding-word bilby).',
    impression: 'Normal abdominal ultrasound (impression-word dingo).', radiologist: { name: 'Dr. Marie Curie' },
    signed_at: hoursAgo(24),
  });
  const mr = ['BT-MR', 'MR', 'MR right knee without contrast'];
  await event('ordered', ...mr, 20);
  await event('scheduled', ...mr, 19, { scheduled_for: hoursAgo(-70) });
  check(code, 'the first event created the patient and answered an access code');
  execFileSync(env('PORTALD'), ['set-password', PHYSICIAN_ID], { input: `${PHYSICIAN_PASSWORD}\n`, stdio: ['pipe', 'ignore', 'inherit'] });
  return code;
}

// ---- page helpers ----

// Console errors other than the browser's own note about a 4xx/5xx answer (the pages show
// those), and any uncaught exception, fail the test: that includes CSP refusals.
function watch(page, sink) {
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) {
      sink.push(`console: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => sink.push(`page error: ${e.message}`));
}

async function axe(page, state) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    // Evaluated through the DevTools protocol, so the page's CSP (no inline scripts) stays on.
    await page.evaluate(AXE);
  }
  const violations = await page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags } });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  }, AXE_TAGS);
  check(violations.length === 0, `axe on "${state}": ${violations.join('; ')}`);
}

async function shoot(page, name, phone = true) {
  await page.screenshot({ path: path.join(SHOTS, `${name}-desktop.png`), fullPage: true });
  if (phone) {
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: path.join(SHOTS, `${name}-phone.png`), fullPage: true });
    await page.setViewportSize(DESKTOP);
  }
}

async function text(locator) {
  return (await locator.innerText()).replace(/\s+/g, ' ').trim();
}

function noErrors(sink, where) {
  check(sink.length === 0, `${where}: ${sink.join(' | ')}`);
}

// ---- the story ----

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  const code = await seed();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const contextOptions = { viewport: DESKTOP, locale: 'en-US', timezoneId: 'UTC', reducedMotion: 'reduce' };
  const patientCtx = await browser.newContext(contextOptions);
  const doctorCtx = await browser.newContext(contextOptions);
  const patient = await patientCtx.newPage();
  const doctor = await doctorCtx.newPage();
  for (const p of [patient, doctor]) {
    p.setDefaultTimeout(10000);
  }
  const patientErrors = [];
  const doctorErrors = [];
  watch(patient, patientErrors);
  watch(doctor, doctorErrors);
  // Everything the patient's browser receives, to prove no byte of the report arrives early.
  const patientBodies = [];
  patient.on('response', async (r) => {
    try {
      patientBodies.push({ url: r.url(), body: await r.text() });
    } catch (e) {
      // Redirects and aborted loads have no body.
    }
  });

  await step('patient sign-in page: headings, labels, no axe violations, strict CSP', async () => {
    const res = await patient.goto(`${BASE}/`);
    check(res.status() === 200, 'GET / answers 200');
    const csp = res.headers()['content-security-policy'] || '';
    check(csp.includes("script-src 'self'") && !csp.includes('unsafe-inline'), `strict CSP header: ${csp}`);
    await patient.getByRole('heading', { level: 1, name: 'See your imaging results' }).waitFor();
    await patient.getByLabel('Access code').waitFor();
    await patient.getByLabel('Your date of birth').waitFor();
    await axe(patient, 'patient sign-in');
    await shoot(patient, '01-patient-signin');
    noErrors(patientErrors, 'patient sign-in');
  });

  await step('patient sign-in: keyboard focus goes heading, code, birth date, button', async () => {
    check(await patient.evaluate(() => document.activeElement.id) === 'signin-title', 'focus starts on the heading');
    const order = [];
    for (let i = 0; i < 8 && order[order.length - 1] !== 'submit'; i++) {
      await patient.keyboard.press('Tab');
      // A date input takes several Tab presses (month, day, year); count it once.
      const id = await patient.evaluate(() => document.activeElement.id || document.activeElement.type);
      if (order[order.length - 1] !== id) {
        order.push(id);
      }
    }
    check(order.join(',') === 'access-code,birth-date,submit', `focus order: ${order.join(',')}`);
    const first = await patient.evaluate(() => document.querySelector('a, button, input')?.className);
    check(first === 'skip', 'the skip link comes first');
  });

  await step('patient: a wrong code says so in the alert region and keeps focus on the form', async () => {
    await patient.getByLabel('Access code').fill('AAAA-BBBB-CCCC-DDDD');
    await patient.getByLabel('Your date of birth').fill(BIRTH);
    await patient.getByRole('button', { name: 'Sign in' }).click();
    const alert = patient.getByRole('alert');
    await alert.filter({ hasText: 'do not match our records' }).waitFor();
    check(await patient.evaluate(() => document.activeElement.id) === 'access-code', 'focus back on the access code');
    await axe(patient, 'patient sign-in error');
    await shoot(patient, '02-patient-signin-error', false);
  });

  await step('patient signs in: "your doctor is reviewing" and no report content anywhere', async () => {
    await patient.getByLabel('Access code').fill(code.toLowerCase());
    await patient.getByLabel('Your date of birth').fill(BIRTH);
    await patient.getByRole('button', { name: 'Sign in' }).click();
    await patient.getByRole('heading', { level: 1, name: 'Your exams' }).waitFor();
    const ct = patient.locator('li.study').filter({ has: patient.getByRole('heading', { name: 'CT chest with contrast' }) });
    const t = await text(ct);
    check(/Your doctor is reviewing/.test(t), `CT card says the doctor is reviewing: ${t}`);
    check(!(await ct.getByRole('link', { name: /Read your results/ }).count()), 'no "read your results" before release');
    const html = await patient.content();
    for (const word of ['quokka', 'wombat', 'bilby', 'dingo', 'Marie Curie']) {
      check(!html.includes(word), `page holds no report word "${word}"`);
      check(!patientBodies.some((b) => b.body.includes(word)), `no response to the patient holds "${word}"`);
    }
    await axe(patient, 'patient studies before release');
    await shoot(patient, '03-patient-studies-before-release');
    noErrors(patientErrors, 'patient studies');
  });

  await step('patient: the progress tracker marks done, current and still-to-come stages', async () => {
    const ct = patient.locator('li.study').filter({ has: patient.getByRole('heading', { name: 'CT chest with contrast' }) });
    const current = ct.locator('li.step[aria-current="step"]');
    check(await current.count() === 1, 'exactly one current step');
    check(/Now: Doctor reviewing/.test(await current.textContent()), 'current step is the doctor reviewing');
    check(await ct.locator('li.step.done').count() === 6, 'six stages done');
    check(/Still to come: Results ready/.test(await ct.locator('li.step.todo').textContent()), 'results ready still to come');
    const mr = patient.locator('li.study').filter({ has: patient.getByRole('heading', { name: 'MR right knee without contrast' }) });
    check(/Your appointment:/.test(await text(mr)), 'the booked MR shows its appointment');
    // The US exam was a walk-in: its booking step is skipped, never shown as done without a date.
    const us = patient.locator('li.study').filter({ has: patient.getByRole('heading', { name: 'US abdomen complete' }) });
    const skipped = us.locator('li.step.skipped');
    check(await skipped.count() === 1 && /Skipped: Booked\s*no booking/.test(await skipped.textContent()),
      `the walk-in's booking step is skipped: ${await text(us.locator('ol.tracker'))}`);
    check(/once your doctor releases it/.test(await text(us)), 'the default policy promises no automatic release');
    check(await us.locator('form.preference').count() === 0 && await ct.locator('form.preference').count() === 0,
      'no choice of when results are shared where the site offers none');
    // Estimates come from the site's history; wherever the API gives one, the card shows it.
    const api = await patient.evaluate(async () => (await fetch('/api/v1/patient/studies')).json());
    for (const s of api.studies) {
      const card = patient.locator(`li.study[data-study="${s.id}"]`);
      const shown = await card.locator('.estimates').count();
      const expected = (s.estimates || []).some((e) => e && (e.p50_at || e.summary)) && !s.report_available && s.stage !== 'cancelled';
      check(shown === (expected ? 1 : 0), `estimates shown for ${s.accession} exactly when the API has them`);
      if (expected) {
        check(/most likely by|we cannot say yet/.test(await text(card.locator('.estimates'))), `estimate wording for ${s.accession}`);
      }
    }
  });

  await step('patient chooses when the booked MR\'s report is shared (the site offers the choice)', async () => {
    const card = () => patient.locator('li.study').filter({ has: patient.getByRole('heading', { name: 'MR right knee without contrast' }) });
    const group = card().getByRole('group', { name: 'When should this report be shared with you?' });
    await group.waitFor();
    check(await group.getByLabel('The way my care site usually does it').isChecked(), 'the site default is chosen at first');
    await group.getByLabel(/After my doctor has reviewed it/).check();
    await group.getByLabel(/Days to wait for my doctor/).fill('40');
    await card().getByRole('button', { name: 'Save my choice' }).click();
    await patient.getByRole('alert').filter({ hasText: 'from 1 to 14' }).waitFor();
    await group.getByLabel(/Days to wait for my doctor/).fill('5');
    await card().getByRole('button', { name: 'Save my choice' }).click();
    await patient.getByRole('status').filter({ hasText: 'Your choice is saved' }).waitFor();
    const saved = card().getByRole('group', { name: 'When should this report be shared with you?' });
    check(await saved.getByLabel(/After my doctor has reviewed it/).isChecked(), 'the saved choice shows after reload');
    check(await saved.getByLabel(/Days to wait for my doctor/).inputValue() === '5', 'with its five days');
    const api = await patient.evaluate(async () => (await fetch('/api/v1/patient/studies')).json());
    const mr = api.studies.find((s) => s.modality === 'MR');
    check(mr.release_preference.release === 'wait_for_physician' && mr.release_preference.wait_days === 5, `the API has the choice: ${JSON.stringify(mr.release_preference)}`);
    await axe(patient, 'patient choice of when results are shared');
    await shoot(patient, '03b-patient-release-choice');
  });

  await step('physician sign-in page: a wrong password is refused with a clear message', async () => {
    await doctor.goto(`${BASE}/physician`);
    await doctor.getByRole('heading', { level: 1, name: 'Physician sign-in' }).waitFor();
    await axe(doctor, 'physician sign-in');
    await doctor.getByLabel('Physician id').fill(PHYSICIAN_ID);
    await doctor.getByLabel('Password').fill('not-the-password');
    await doctor.getByRole('button', { name: 'Sign in' }).click();
    await doctor.getByRole('alert').filter({ hasText: 'do not match our records' }).waitFor();
    await axe(doctor, 'physician sign-in error');
    await shoot(doctor, '04-physician-signin-error');
    noErrors(doctorErrors, 'physician sign-in');
  });

  await step('physician signs in: the worklist shows reports awaiting review first', async () => {
    await doctor.getByLabel('Physician id').fill(PHYSICIAN_ID);
    await doctor.getByLabel('Password').fill(PHYSICIAN_PASSWORD);
    await doctor.getByRole('button', { name: 'Sign in' }).click();
    await doctor.getByRole('heading', { level: 1, name: 'Worklist' }).waitFor();
    const groups = await doctor.locator('#worklist h2').allInnerTexts();
    check(groups[0] === 'Waiting for your review (2)', `first group is awaiting review: ${groups.join(' / ')}`);
    const first = await doctor.locator('#worklist ul').first().locator('a.work-item').allInnerTexts();
    check(first.length === 2 && /US abdomen/.test(first[0]) && /CT chest/.test(first[1]), `oldest final report first: ${first.join(' / ')}`);
    await axe(doctor, 'physician worklist');
    await shoot(doctor, '05-physician-worklist');
    noErrors(doctorErrors, 'physician worklist');
  });

  await step('physician holds a report with a reason; the hold shows with its reason and time', async () => {
    await doctor.getByRole('link', { name: /US abdomen complete/ }).click();
    await doctor.getByRole('heading', { level: 2, name: 'Ada Lovelace – US abdomen complete' }).waitFor();
    await doctor.getByRole('button', { name: 'Hold report' }).click();
    await doctor.getByRole('alert').filter({ hasText: 'give a reason' }).waitFor();
    const hint = await text(doctor.locator('#hold-reason-hint'));
    check(/administrators/.test(hint) && !/Only you/.test(hint), `the hold hint says who reads the reason: ${hint}`);
    await doctor.getByLabel('Reason for holding').fill(HOLD_REASON);
    await doctor.getByLabel('Grounds').selectOption('data_believed_wrong');
    await doctor.getByLabel('Hold until (optional)').fill(localInput(hoursAgo(-48)));
    await doctor.getByRole('button', { name: 'Hold report' }).click();
    await doctor.getByRole('status').filter({ hasText: 'Report on hold' }).waitFor();
    const detail = await text(doctor.locator('#detail'));
    check(detail.includes(HOLD_REASON) && /On hold since/.test(detail), `hold reason and time shown: ${detail}`);
    check(/believed to be wrong/.test(detail) && /The hold ends .*No automatic release follows/s.test(detail),
      `the hold's grounds, its end, and that nothing is released when it ends (default policy): ${detail}`);
    check((await doctor.locator('#worklist h2').allInnerTexts()).includes('On hold (1)'), 'worklist has one on hold');
    await axe(doctor, 'physician study on hold');
  });

  await step('physician reads the full report and releases it with a note', async () => {
    await doctor.getByRole('link', { name: /CT chest with contrast/ }).first().click();
    await doctor.getByRole('heading', { level: 2, name: 'Ada Lovelace – CT chest with contrast' }).waitFor();
    const detail = await text(doctor.locator('#detail'));
    check(detail.includes('quokka') && detail.includes('wombat'), 'findings and impression shown to the physician');
    await axe(doctor, 'physician study awaiting review');
    await shoot(doctor, '06-physician-study');
    await doctor.getByLabel('Note to the patient (optional)').fill(NOTE);
    await doctor.getByRole('button', { name: 'Release to patient' }).click();
    await doctor.getByRole('status').filter({ hasText: 'Report released to Ada Lovelace' }).waitFor();
    const after = await text(doctor.locator('#detail'));
    check(/Released to the patient by Dr\. Grace Hopper/.test(after) && after.includes('numbat'), `release shown with the note: ${after}`);
    check(await doctor.getByRole('button', { name: 'Release to patient' }).count() === 0, 'no release button after release');
    await axe(doctor, 'physician study released');
    await shoot(doctor, '07-physician-released');
    noErrors(doctorErrors, 'physician release');
  });

  await step('patient reads the released report: note, impression and findings as sections', async () => {
    await patient.reload();
    await patient.getByRole('heading', { level: 1, name: 'Your exams' }).waitFor();
    await patient.getByRole('link', { name: 'Read your results for CT chest with contrast' }).click();
    await patient.getByRole('heading', { level: 1, name: 'CT chest with contrast' }).waitFor();
    check(await patient.evaluate(() => document.activeElement.id) === 'study-title', 'focus moves to the study heading');
    const note = patient.getByRole('region', { name: 'A note from Dr. Grace Hopper' });
    check((await text(note)).includes(NOTE), 'the physician note');
    check((await text(patient.getByRole('region', { name: 'Impression' }))).includes(IMPRESSION), 'the impression');
    check((await text(patient.getByRole('region', { name: 'Findings' }))).includes(FINDINGS), 'the findings');
    const about = await text(patient.getByRole('region', { name: 'About this report' }));
    check(about.includes('Dr. Marie Curie') && /Shared with you on .+ by Dr\. Grace Hopper\./.test(about), `radiologist and dates: ${about}`);
    const talk = patient.getByRole('region', { name: 'Talk it over with Dr. Grace Hopper' });
    check(await talk.getByRole('link', { name: /Book a time online/ }).getAttribute('href') === 'https://clinic.example/schedule', 'scheduling link');
    check(await talk.getByRole('link', { name: '+1 555 0100' }).getAttribute('href') === 'tel:+15550100', 'phone link');
    await axe(patient, 'patient report');
    await shoot(patient, '08-patient-report');
    noErrors(patientErrors, 'patient report');
  });

  await step('patient: the report\'s parts are reachable from the in-page links without losing the view', async () => {
    await patient.getByRole('navigation', { name: 'Parts of this report' }).getByRole('link', { name: 'Findings' }).click();
    await patient.waitForFunction(() => window.location.hash === '#sec-findings');
    check(await patient.getByRole('heading', { level: 1, name: 'CT chest with contrast' }).isVisible(), 'still on the report');
    await patient.goBack();
    await patient.waitForFunction(() => window.location.hash.startsWith('#study/'));
    check(await patient.getByRole('region', { name: 'Findings' }).isVisible(), 'report still shown after going back');
  });

  await step('patient asks for a call back with preferred times; the request state shows', async () => {
    const talk = patient.getByRole('region', { name: 'Talk it over with Dr. Grace Hopper' });
    await talk.getByLabel('Choice 1').fill('2030-03-04T09:30');
    await talk.getByLabel('Choice 2').fill('2030-03-05T16:00');
    await talk.getByLabel('Anything you would like to ask (optional)').fill(DISCUSSION_MESSAGE);
    await talk.getByRole('button', { name: 'Ask for a call back' }).click();
    await patient.getByRole('status').filter({ hasText: 'Your request was sent' }).waitFor();
    const t = await text(patient.getByRole('region', { name: 'Talk it over with Dr. Grace Hopper' }));
    check(/You asked for a call back on/.test(t), `request state shown: ${t}`);
    check(await patient.getByRole('button', { name: 'Ask for a call back' }).count() === 0, 'no second form while the request is open');
    await axe(patient, 'patient discussion requested');
    await shoot(patient, '09-patient-discussion-requested');
    noErrors(patientErrors, 'patient discussion');
  });

  await step('physician sees the patient\'s request with times and message', async () => {
    await doctor.reload();
    await doctor.getByRole('heading', { level: 1, name: 'Worklist' }).waitFor();
    const req = doctor.locator('#requests li.request').first();
    const t = await text(req);
    check(t.includes('Ada Lovelace') && t.includes(DISCUSSION_MESSAGE) && /Open/.test(t), `request listed: ${t}`);
    check((await req.locator('ul li').count()) === 2, 'two preferred times');
    await axe(doctor, 'physician requests');
    await doctor.locator('#requests-section').scrollIntoViewIfNeeded();
    await shoot(doctor, '10-physician-requests');
    noErrors(doctorErrors, 'physician requests');
  });

  await step('physician books the talk with a message; the patient sees the time and the message', async () => {
    const req = doctor.locator('#requests li.request').first();
    await req.getByLabel('Mark the request').selectOption('scheduled');
    await req.getByRole('button', { name: 'Save' }).click();
    await doctor.getByRole('alert').filter({ hasText: 'Please give the time of the discussion.' }).waitFor();
    check(await req.getByLabel('Time of the discussion').getAttribute('aria-invalid') === 'true', 'missing time marked invalid');
    await req.getByLabel('Time of the discussion').fill('2030-03-05T16:00');
    await req.getByLabel('Message to the patient (optional)').fill(REPLY_MESSAGE);
    await req.getByRole('button', { name: 'Save' }).click();
    await doctor.getByRole('status').filter({ hasText: 'saved: Scheduled' }).waitFor();
    const listed = await text(doctor.locator('#requests li.request').first());
    check(/Scheduled/.test(listed) && /Discussion scheduled for/.test(listed) && listed.includes(REPLY_MESSAGE), `answer listed: ${listed}`);
    await axe(doctor, 'physician request answered');
    await doctor.locator('#requests-section').scrollIntoViewIfNeeded();
    await shoot(doctor, '10b-physician-request-answered');
    noErrors(doctorErrors, 'physician answers');

    await patient.reload();
    const talk = patient.getByRole('region', { name: 'Talk it over with Dr. Grace Hopper' });
    await talk.waitFor();
    const t = await text(talk);
    check(/Your talk with Dr\. Grace Hopper is booked for .*2030/.test(t), `booked time shown: ${t}`);
    check(t.includes('Message from the office of Dr. Grace Hopper') && t.includes(REPLY_MESSAGE), `reply shown: ${t}`);
    check(await patient.getByRole('button', { name: 'Ask for a call back' }).count() === 0, 'no new request form for the same report');
    await axe(patient, 'patient discussion booked');
    await talk.scrollIntoViewIfNeeded();
    await shoot(patient, '10c-patient-discussion-booked');
    noErrors(patientErrors, 'patient discussion booked');

    // Closed: final, no form left on the physician's page, and the patient reads that it is closed.
    await doctor.locator('#requests li.request').first().getByLabel('Mark the request').selectOption('closed');
    await doctor.locator('#requests li.request').first().getByRole('button', { name: 'Save' }).click();
    await doctor.getByRole('status').filter({ hasText: 'saved: Closed' }).waitFor();
    const closed = doctor.locator('#requests li.request').first();
    check(/Closed/.test(await text(closed)) && await closed.locator('form').count() === 0, 'a closed request has no form');
    await patient.reload();
    const after = await text(patient.getByRole('region', { name: 'Talk it over with Dr. Grace Hopper' }));
    check(/has closed this request/.test(after) && !after.includes(REPLY_MESSAGE), `closed state shown: ${after}`);
    await axe(patient, 'patient discussion closed');
  });

  await step('an ended session sends the patient back to sign-in with a message', async () => {
    await patientCtx.clearCookies();
    await patient.getByRole('link', { name: 'Back to all your exams' }).click();
    await patient.getByRole('heading', { level: 1, name: 'See your imaging results' }).waitFor();
    await patient.getByRole('alert').filter({ hasText: 'signed out' }).waitFor();
    check(!(await patient.content()).includes('quokka'), 'the report is gone from the page');
    await axe(patient, 'patient session ended');
    await shoot(patient, '11-patient-session-ended', false);
  });

  await step('too many sign-in attempts answer with a wait message (429)', async () => {
    const ctx = await browser.newContext(contextOptions);
    const page = await ctx.newPage();
    const errors = [];
    watch(page, errors);
    await page.goto(`${BASE}/physician`);
    await page.getByRole('heading', { level: 1, name: 'Physician sign-in' }).waitFor();
    for (let i = 0; i < 6; i++) {
      await page.getByLabel('Physician id').fill('BT-NPI-LOCKED');
      await page.getByLabel('Password').fill(`wrong-${i}`);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: i < 5 ? 'do not match' : 'Too many attempts' }).waitFor();
    }
    await axe(page, 'physician locked out');
    noErrors(errors, 'lock-out');
    await ctx.close();
  });

  await step('patient signs in again after the session ended', async () => {
    await patient.getByLabel('Access code').fill(code);
    await patient.getByLabel('Your date of birth').fill(BIRTH);
    await patient.getByRole('button', { name: 'Sign in' }).click();
    await patient.getByRole('heading', { level: 1, name: 'Your exams' }).waitFor();
    check(await patient.getByRole('link', { name: 'Read your results for CT chest with contrast' }).count() === 1, 'the released CT is readable');
  });

  await step('with the database down the page says so and offers to try again (503)', async () => {
    execFileSync(path.join(root, 'scripts', 'pg.sh'), ['stop', env('PG_DIR')], { stdio: 'ignore' });
    await patient.reload();
    await patient.getByRole('alert').filter({ hasText: 'cannot reach its records' }).waitFor();
    await patient.getByRole('button', { name: 'Try again' }).waitFor();
    await axe(patient, 'patient database outage');
    await shoot(patient, '12-patient-database-outage', false);
    await doctor.reload();
    await doctor.getByRole('alert').filter({ hasText: 'cannot reach its records' }).waitFor();
    await axe(doctor, 'physician database outage');
  });

  await step('with the server gone the page says the portal cannot be reached', async () => {
    const pid = Number(env('SERVER_PID'));
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 200; i++) {
      try {
        process.kill(pid, 0);
      } catch (e) {
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await patient.getByRole('button', { name: 'Try again' }).click();
    await patient.getByRole('alert').filter({ hasText: 'could not reach the portal' }).waitFor();
    await axe(patient, 'patient network failure');
    noErrors(patientErrors.filter((e) => !/ERR_CONNECTION_REFUSED/.test(e)), 'network failure');
  });

  await browser.close();
}

try {
  await main();
} catch (e) {
  outside('the story script failed outside a step', e);
}
finish();
// The browser's and server's handles may keep node alive: the result is in.
process.exit(process.exitCode);
