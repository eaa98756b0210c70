// Every page state in Spanish and in French (issue 16): the patient's sign-in, list, a study in
// review, a released report with its call-back form, the call-back booked with the office's
// message, then closed on the physician's page and read as closed by the patient, and "who has
// seen your record"; a caregiver's family access page (sign-in, the people
// followed, their exams, a report); the physician's sign-in, worklist (with the request to
// answer) and a study. Spanish comes from the browser's Accept-Language, French from the page's
// switch. In each state <html lang> is the language's, no English text of the catalogue is left on
// screen, axe finds no violation, and screenshots (desktop and phone) go to $SCREENSHOTS as
// lang-LANG-STATE-*.png to look at for overflow and truncation. Run by tests/suites/browser.sh
// before story.mjs (which ends by stopping the server); ends with "N passed, N failed".
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { AXE, AXE_TAGS, DESKTOP, PHONE, check, env, launchChromium, steps } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BASE = env('PORTAL_URL');
const SHOTS = env('SCREENSHOTS');
const RIS = env('RIS_TOKEN');
const BIRTH = '1979-03-14';
const PROXY_BIRTH = '1950-07-21';

const { step, outside, finish } = steps({ stopAfterFailure: false, traceLines: 10 });

async function api(method, p, token, body) {
  const res = await fetch(`${BASE}${p}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json();
  check(res.status < 300, `${method} ${p} answered ${res.status}: ${JSON.stringify(data)}`);
  return data;
}

function hoursAgo(h) {
  return new Date(Date.now() - h * 3600 * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// One patient and one physician per language: a study in review and one released.
async function seed(lang) {
  const physician = `LG-NPI-${lang}`;
  const password = `lang-${lang}-${Math.random().toString(36).slice(2)}`;
  let n = 0;
  let code = null;
  const ids = {};
  const patientOf = {};
  const event = async (type, accession, modality, description, hours, site = 'main') => {
    n++;
    const r = await api('POST', '/api/v1/ingest/events', RIS, {
      event_id: `lg-${lang}-${accession}-${type}-${n}`, type, occurred_at: hoursAgo(hours),
      patient: { mrn: `LG-MRN-${lang}`, assigning_authority: 'main', name: 'Rosa Martín', birth_date: BIRTH },
      study: { accession, modality, description, priority: 'routine', site },
      referring_physician: { id: physician, name: 'Dra. Elena Ruiz', phone: '+34 910 000 000' },
    });
    code = code || r.access_code;
    ids[accession] = r.study_id;
    patientOf[accession] = r.patient_id;
  };
  for (const [acc, mod, desc] of [[`LG-${lang}-CT`, 'CT', 'CT chest'], [`LG-${lang}-XR`, 'XR', 'XR wrist']]) {
    await event('ordered', acc, mod, desc, 60);
    await event('arrived', acc, mod, desc, 30);
    await event('exam_started', acc, mod, desc, 29.5);
    await event('exam_completed', acc, mod, desc, 29);
    await api('POST', '/api/v1/ingest/reports', RIS, {
      event_id: `lg-${lang}-${acc}-report`, accession: acc, status: 'final', findings: 'Findings (wording test).',
      impression: 'Impression (wording test).', radiologist: { name: 'Dr. Marie Curie' }, signed_at: hoursAgo(2),
    });
  }
  await event('ordered', `LG-${lang}-MR`, 'MR', 'MR knee', 5);
  // An ultrasound at lg-auto, whose policy shares a final report at once (tests/suites/browser.sh):
  // released by the site's policy, by no physician.
  const us = `LG-${lang}-US`;
  for (const [type, hours] of [['ordered', 50], ['arrived', 26], ['exam_started', 25.8], ['exam_completed', 25.5]]) {
    await event(type, us, 'US', 'US abdomen', hours, 'lg-auto');
  }
  await api('POST', '/api/v1/ingest/reports', RIS, {
    event_id: `lg-${lang}-${us}-report`, accession: us, status: 'final', findings: 'Findings (policy test).',
    impression: 'Impression (policy test).', radiologist: { name: 'Dr. Marie Curie' }, signed_at: hoursAgo(1),
  });
  const token = execFileSync(env('PORTALD'), ['token', '--role', 'physician', '--sub', physician]).toString().trim();
  await api('POST', `/api/v1/physician/studies/${ids[`LG-${lang}-XR`]}/release`, token, { note: 'Todo bien / Tout va bien.' });
  execFileSync(env('PORTALD'), ['set-password', physician], { input: `${password}\n`, stdio: ['pipe', 'ignore', 'inherit'] });
  // A caregiver of her own (the operator's commands), who follows her results for a week.
  const proxy = portaldTable('proxy-add', 'Tomás Martín', PROXY_BIRTH);
  const until = new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  portaldTable('proxy-grant', proxy.proxy_id, `LG-MRN-${lang}`, 'caregiver', '--until', until);
  return {
    code, physician, password, review: ids[`LG-${lang}-CT`], released: ids[`LG-${lang}-XR`], byPolicy: ids[us],
    patientId: patientOf[`LG-${lang}-XR`], proxyCode: proxy.access_code,
  };
}

// A portald command's "key<TAB>value" lines.
function portaldTable(...args) {
  const out = execFileSync(env('PORTALD'), args).toString();
  return Object.fromEntries(out.split('\n').filter((l) => l.includes('\t')).map((l) => l.split('\t')));
}

// The English messages that must not be left on screen: those of two words or more that the
// language translates differently (one word, such as a name or a data value, may be the same).
function englishLeftovers(catalogue) {
  return Object.entries(catalogue)
    .map(([id, str]) => [id.trim(), str.trim()])
    .filter(([id, str]) => id !== str && !/[{%]/.test(id) && id.split(/\s+/).length >= 2);
}

async function checkState(page, lang, leftovers, state, errors) {
  await page.waitForFunction((l) => document.documentElement.lang === l, lang);
  const shown = (await page.evaluate(() => `${document.title}\n${document.body.innerText}`)).replace(/\s+/g, ' ');
  const left = leftovers.filter(([id]) => shown.includes(id)).map(([id]) => id);
  check(left.length === 0, `${lang} ${state}: English left on screen: ${left.slice(0, 5).join(' | ')}`);
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(AXE);
  }
  const violations = await page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags } });
    return r.violations.map((v) => `${v.id}: ${v.help} at ${v.nodes.slice(0, 3).map((x) => x.target.join(' ')).join(' | ')}`);
  }, AXE_TAGS);
  check(violations.length === 0, `axe on ${lang} ${state}: ${violations.join('; ')}`);
  await page.screenshot({ path: path.join(SHOTS, `lang-${lang}-${state}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: path.join(SHOTS, `lang-${lang}-${state}-phone.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
  check(errors.length === 0, `${lang} ${state}: ${errors.join(' | ')}`);
}

// How far the page is wider than a phone's screen (text that would overflow or be cut).
async function overflowAtPhone(page) {
  await page.setViewportSize(PHONE);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await page.setViewportSize(DESKTOP);
  return wide;
}

async function walk(browser, lang, viaSwitch) {
  const data = await seed(lang);
  const catalogue = JSON.parse(readFileSync(path.join(root, 'static', 'i18n', `${lang}.json`), 'utf8'));
  const leftovers = englishLeftovers(catalogue);
  const t = (msgid) => catalogue[msgid] || msgid;
  const ctx = await browser.newContext({
    viewport: DESKTOP, locale: viaSwitch ? 'en-US' : `${lang}-ES`, timezoneId: 'Europe/Madrid', reducedMotion: 'reduce',
  });
  const page = await ctx.newPage();
  page.setDefaultTimeout(10000);
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) {
      errors.push(`console: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));

  await step(`${lang}: patient sign-in page`, async () => {
    await page.goto(`${BASE}/`);
    if (viaSwitch) {
      await page.getByRole('heading', { level: 1, name: 'See your imaging results' }).waitFor();
      await Promise.all([page.waitForEvent('load'), page.getByLabel('Language').selectOption(lang)]);
    }
    await page.getByRole('heading', { level: 1, name: t('See your imaging results') }).waitFor();
    check(await page.getByLabel(t('Language')).inputValue() === lang, 'the switch shows the language');
    await checkState(page, lang, leftovers, 'signin', errors);
  });

  await step(`${lang}: patient list after sign-in`, async () => {
    await page.getByLabel(t('Access code')).fill(data.code);
    await page.getByLabel(t('Your date of birth')).fill(BIRTH);
    await page.getByRole('button', { name: t('Sign in') }).click();
    await page.getByRole('heading', { level: 1, name: t('Your exams') }).waitFor();
    await page.getByText(t('Your doctor is reviewing the report')).first().waitFor();
    check(await overflowAtPhone(page) <= 0, 'nothing wider than a phone');
    await checkState(page, lang, leftovers, 'list', errors);
  });

  await step(`${lang}: a study in review`, async () => {
    await page.goto(`${BASE}/#study/${data.review}`);
    // Within the study's view: the list's copy of the same text may still be on the way out.
    await page.locator('#study-view').getByText(t('The radiologist\'s report has gone to your doctor, who will review it and talk the results over with you.')).waitFor();
    await checkState(page, lang, leftovers, 'review', errors);
  });

  await step(`${lang}: a released report with its call-back form`, async () => {
    await page.goto(`${BASE}/#study/${data.released}`);
    await page.locator('#study-view').getByRole('heading', { level: 2, name: t('Impression') }).waitFor();
    await page.getByRole('button', { name: t('Ask for a call back') }).waitFor();
    check(await overflowAtPhone(page) <= 0, 'nothing wider than a phone');
    await checkState(page, lang, leftovers, 'report', errors);
  });

  await step(`${lang}: a call-back asked for, booked with a message, read by the patient`, async () => {
    await page.locator('#study-view').getByLabel(t('Anything you would like to ask (optional)')).fill('¿Necesito otra prueba? / Faut-il un autre examen ?');
    await page.getByRole('button', { name: t('Ask for a call back') }).click();
    // The sentence is whole in every language, with the time where the translation puts it.
    const [before, after] = t('You asked for a call back on {when}.').split('{when}');
    await page.locator('#request-state').getByText(before.trim() ? before : after, { exact: false }).waitFor();
    const askedText = (await page.locator('#request-state').innerText()).replace(/\s+/g, ' ');
    check(askedText.includes(before) && askedText.includes(after), `the patient reads the whole sentence: ${askedText}`);
    // A token made now: set-password ended the physician's earlier ones.
    const doc = execFileSync(env('PORTALD'), ['token', '--role', 'physician', '--sub', data.physician]).toString().trim();
    const listed = await api('GET', '/api/v1/physician/discussion-requests', doc);
    const asked = listed.requests.find((r) => r.study_id === data.released);
    check(asked && asked.state === 'open', `the physician sees the request: ${JSON.stringify(listed)}`);
    const when = new Date(Date.now() + 3 * 24 * 3600 * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await api('POST', `/api/v1/physician/discussion-requests/${asked.id}/answer`, doc,
      { state: 'scheduled', scheduled_for: when, reply: 'Le llamaremos el jueves. / Nous vous appellerons jeudi.' });
    await page.reload();
    await page.locator('#request-state .reply').waitFor();
    check(await overflowAtPhone(page) <= 0, 'nothing wider than a phone');
    await checkState(page, lang, leftovers, 'callback-booked', errors);
  });

  await step(`${lang}: a report the site's policy shared says so in one whole sentence`, async () => {
    await page.goto(`${BASE}/#study/${data.byPolicy}`);
    // Only the hash changes: wait for this report's own words, not a heading the last one had too.
    await page.locator('#study-view').getByText('Impression (policy test).').waitFor();
    const about = (await page.locator('#sec-details').innerText()).replace(/\s+/g, ' ');
    const [before, after] = t('Shared with you on {when} automatically, under your imaging centre’s policy.').split('{when}');
    check(about.includes(before) && about.includes(after), `the policy's release in one sentence: ${about}`);
    check(!about.includes(t('Released automatically (site policy)')), `no releaser's words glued after "by": ${about}`);
    check(await overflowAtPhone(page) <= 0, 'nothing wider than a phone');
    await checkState(page, lang, leftovers, 'report-by-policy', errors);
  });

  await step(`${lang}: who has seen your record`, async () => {
    await page.goto(`${BASE}/#access`);
    await page.getByRole('heading', { level: 1, name: t('Who has seen your record') }).waitFor();
    await page.getByRole('heading', { level: 2, name: t('People who can see your results for you') }).waitFor();
    await page.locator('#access-entries li').first().waitFor();
    check(await overflowAtPhone(page) <= 0, 'nothing wider than a phone');
    await checkState(page, lang, leftovers, 'access', errors);
    // Back where the next step expects the patient: the released report.
    await page.goto(`${BASE}/#study/${data.released}`);
    await page.locator('#study-view').getByRole('heading', { level: 2, name: t('Impression') }).waitFor();
  });

  await step(`${lang}: the family access page (proxies) before sign-in`, async () => {
    // A browser of its own: the patient's session would make the page ask a proxy's questions
    // with a patient's token. The language comes with the cookie the switch sets.
    const familyCtx = await browser.newContext({ viewport: DESKTOP, locale: 'en-US', timezoneId: 'Europe/Madrid', reducedMotion: 'reduce' });
    await familyCtx.addCookies([{ name: 'portal_lang', value: lang, url: BASE }]);
    const family = await familyCtx.newPage();
    family.setDefaultTimeout(10000);
    family.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    await family.goto(`${BASE}/proxy.html`);
    await family.getByRole('heading', { level: 1, name: t('Follow the results of someone you care for') }).waitFor();
    await family.getByLabel(t('Your access code')).waitFor();
    check(await overflowAtPhone(family) <= 0, 'nothing wider than a phone');
    await checkState(family, lang, leftovers, 'proxy-signin', errors);
    await familyCtx.close();
  });

  await step(`${lang}: the family access page, signed in: the people followed, their exams, a report`, async () => {
    const familyCtx = await browser.newContext({ viewport: DESKTOP, locale: 'en-US', timezoneId: 'Europe/Madrid', reducedMotion: 'reduce' });
    await familyCtx.addCookies([{ name: 'portal_lang', value: lang, url: BASE }]);
    const family = await familyCtx.newPage();
    family.setDefaultTimeout(10000);
    family.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    await family.goto(`${BASE}/proxy.html`);
    await family.getByLabel(t('Your access code')).fill(data.proxyCode);
    await family.getByLabel(t('Your own date of birth')).fill(PROXY_BIRTH);
    await family.getByRole('button', { name: t('Sign in') }).click();
    await family.getByRole('heading', { level: 1, name: t('People you follow') }).waitFor();
    await checkState(family, lang, leftovers, 'proxy-people', errors);
    await family.goto(`${BASE}/proxy.html#patient/${data.patientId}`);
    await family.getByRole('heading', { level: 1, name: 'Rosa Martín' }).waitFor();
    await family.getByRole('link', { name: t('Read the results') }).first().waitFor();
    check(await overflowAtPhone(family) <= 0, 'nothing wider than a phone');
    await checkState(family, lang, leftovers, 'proxy-patient', errors);
    await family.goto(`${BASE}/proxy.html#study/${data.patientId}/${data.released}`);
    await family.getByRole('heading', { level: 2, name: t('Impression') }).waitFor();
    await checkState(family, lang, leftovers, 'proxy-report', errors);
    await familyCtx.close();
  });

  await step(`${lang}: the saved choice follows the patient to the server's texts`, async () => {
    const r = await page.evaluate(async () => (await fetch('/api/v1/patient/language')).json());
    check(r.language === lang, `the API answers in ${lang}: ${JSON.stringify(r)}`);
    if (viaSwitch) {
      // Chosen before sign-in: the cookie carried it; choosing again while signed in saves it.
      await Promise.all([page.waitForEvent('load'), page.getByLabel(t('Language')).selectOption(lang)]);
      await page.getByRole('heading', { level: 2, name: t('Impression') }).waitFor();
      const saved = await page.evaluate(async () => (await fetch('/api/v1/patient/language')).json());
      check(saved.saved === lang, `saved: ${JSON.stringify(saved)}`);
    }
  });

  const doctor = await ctx.newPage();
  doctor.setDefaultTimeout(10000);
  doctor.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  await step(`${lang}: physician sign-in, worklist and a study`, async () => {
    await doctor.goto(`${BASE}/physician`);
    await doctor.getByRole('heading', { level: 1, name: t('Physician sign-in') }).waitFor();
    await checkState(doctor, lang, leftovers, 'physician-signin', errors);
    await doctor.getByLabel(t('Physician id')).fill(data.physician);
    await doctor.getByLabel(t('Password')).fill(data.password);
    await doctor.getByRole('button', { name: t('Sign in') }).click();
    await doctor.getByRole('heading', { level: 1, name: t('Worklist') }).waitFor();
    await checkState(doctor, lang, leftovers, 'physician-worklist', errors);
    await doctor.goto(`${BASE}/physician#study/${data.review}`);
    await doctor.getByRole('button', { name: t('Release to patient') }).waitFor();
    await doctor.getByRole('button', { name: t('Hold report') }).waitFor();
    check(await overflowAtPhone(doctor) <= 0, 'nothing wider than a phone');
    await checkState(doctor, lang, leftovers, 'physician-study', errors);
  });

  // The loop closed on the physician's page in the language, and read by the patient on theirs.
  await step(`${lang}: the physician closes the call-back on the page; the patient reads that it is closed`, async () => {
    await doctor.goto(`${BASE}/physician`);
    await doctor.getByRole('heading', { level: 1, name: t('Worklist') }).waitFor();
    const req = doctor.locator('#requests li.request').first();
    await req.getByLabel(t('Mark the request')).selectOption('closed');
    await req.getByRole('button', { name: t('Save') }).click();
    await doctor.locator('#requests li.request form').waitFor({ state: 'detached' });
    await checkState(doctor, lang, leftovers, 'physician-request-closed', errors);
    const patientCtx = await browser.newContext({ viewport: DESKTOP, locale: 'en-US', timezoneId: 'Europe/Madrid', reducedMotion: 'reduce' });
    await patientCtx.addCookies([{ name: 'portal_lang', value: lang, url: BASE }]);
    const again = await patientCtx.newPage();
    again.setDefaultTimeout(10000);
    again.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    await again.goto(`${BASE}/`);
    await again.locator('#access-code').fill(data.code);
    await again.locator('#birth-date').fill(BIRTH);
    await again.getByRole('button', { name: t('Sign in') }).click();
    await again.getByRole('heading', { level: 1, name: t('Your exams') }).waitFor();
    await again.goto(`${BASE}/#study/${data.released}`);
    await again.locator('#request-state').waitFor();
    const closed = t('The office of {name} has closed this request.').replace('{name}', 'Dra. Elena Ruiz');
    const shown = (await again.locator('#request-state').innerText()).replace(/\s+/g, ' ');
    check(shown.includes(closed), `the patient reads "${closed}": ${shown}`);
    check(await overflowAtPhone(again) <= 0, 'nothing wider than a phone');
    await checkState(again, lang, leftovers, 'callback-closed', errors);
    await patientCtx.close();
  });
  await ctx.close();
}

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  const browser = await launchChromium(chromium);
  try {
    await walk(browser, 'es', false);
    await walk(browser, 'fr', true);
  } finally {
    await browser.close();
  }
}

main().catch((e) => outside('languages: the script failed outside a step', e)).finally(finish);
