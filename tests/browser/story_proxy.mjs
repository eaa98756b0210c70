// Proxy access and "who has seen my record" in Debian's chromium (issue 16), in English, Spanish
// and French: a guardian follows a 6-year-old and a 14-year-old whose report the physician marked
// not for proxies (hidden from the guardian with no trace: it reads exactly as the teen's exam that
// is only ordered); the guardian is also a patient and switches to her own record and back with
// one sign-in; a caregiver reads an adult's report, then the link expires mid-story; the patients'
// access lists show each of those reads. Each language has its own people and studies and its own
// browsers (the language from their Accept-Language, as a new visitor's); every expected text is
// looked up in that language's catalogue (static/i18n/LANG.json, the pages' own), never written
// here in English. axe-core on every page state; screenshots to $SCREENSHOTS (p-*.png in English,
// p-*-es.png and p-*-fr.png). Run by tests/suites/browser.sh after story.mjs, on a restarted
// server; ends with "N passed, N failed".
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { AXE, AXE_TAGS, DESKTOP, PHONE, check, env, launchChromium, steps } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BASE = env('PORTAL_URL');
const SHOTS = env('SCREENSHOTS');
const PORTALD = env('PORTALD');
const NPI = 'BTP-NPI-1';
const TEEN_FINDINGS = 'Small cyst (finding-word axolotl), nothing to treat.';
const CHILD_FINDINGS = 'Normal wrist (finding-word capybara).';
const DAD_FINDINGS = 'Mild arthritis of the hip (finding-word pangolin).';

const { step, outside, finish } = steps();
const LANGS = ['en', 'es', 'fr'];

// The pages' own translation: the catalogue the page loads, {name} values filled in as t() does.
function translator(lang) {
  const catalogue = lang === 'en' ? {}
    : JSON.parse(readFileSync(path.join(root, 'static', 'i18n', `${lang}.json`), 'utf8'));
  return (msgid, values) => {
    const text = Object.prototype.hasOwnProperty.call(catalogue, msgid) ? catalogue[msgid] : msgid;
    return values ? text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m)) : text;
  };
}

// ---- seeding: the RIS's ingest API, the physician's API, the operator's proxy commands ----

const RIS = env('RIS_TOKEN');
const DOCTOR = execFileSync(PORTALD, ['token', '--role', 'physician', '--sub', NPI]).toString().trim();
let seq = 0;

async function call(method, url, token, body) {
  const res = await fetch(`${BASE}${url}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json();
  if (res.status >= 300) {
    throw new Error(`${method} ${url} answered ${res.status}: ${JSON.stringify(data)}`);
  }
  return data;
}

function birthForAge(years) {
  const d = new Date();
  d.setUTCFullYear(d.getUTCFullYear() - years);
  d.setUTCDate(d.getUTCDate() - 31);
  return d.toISOString().slice(0, 10);
}

function at(hoursAgo) {
  return new Date(Date.now() - hoursAgo * 3600 * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

async function study(patient, accession, description, events, findings) {
  let answer = null;
  for (const [type, when] of events) {
    seq++;
    answer = await call('POST', '/api/v1/ingest/events', RIS, {
      event_id: `btp-${accession}-${type}-${seq}`, type, occurred_at: when, patient,
      study: { accession, modality: 'XR', description, priority: 'routine', site: 'main' },
      referring_physician: { id: NPI, name: 'Dr. Lise Meitner', phone: '+1 555 0199' },
    }).then((a) => ({ ...a, code: a.access_code || (answer && answer.code) }));
  }
  if (findings) {
    await call('POST', '/api/v1/ingest/reports', RIS, {
      event_id: `btp-${accession}-report`, accession, status: 'final', findings,
      impression: 'See findings.', radiologist: { name: 'Dr. Marie Curie' }, signed_at: at(2),
    });
    await call('GET', `/api/v1/physician/studies/${answer.study_id}`, DOCTOR);
    await call('POST', `/api/v1/physician/studies/${answer.study_id}/release`, DOCTOR, {});
  }
  return answer;
}

function proxyCommand(...args) {
  const out = execFileSync(PORTALD, args).toString();
  return Object.fromEntries(out.split('\n').filter((l) => l.includes('\t')).map((l) => l.split('\t')));
}

function ownerSql(sql) {
  execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', env('PORTAL_MIGRATE_DATABASE_URL'), '-c', sql], { stdio: 'ignore' });
}

const ORDERED = at(72);
const DONE = [['ordered', ORDERED], ['arrived', at(48)], ['exam_started', at(47.9)], ['exam_completed', at(47.5)]];

// One family per language (its own MRNs, accessions and proxies), so the three walks do not meet.
async function seed(lang) {
  const L = lang.toUpperCase();
  const teen = { mrn: `BTP-${L}-TEEN`, name: 'Noor Haddad', birth_date: birthForAge(14) };
  const child = { mrn: `BTP-${L}-CHILD`, name: 'Leo Haddad', birth_date: birthForAge(6) };
  const dad = { mrn: `BTP-${L}-DAD`, name: 'Omar Haddad', birth_date: '1944-03-03' };
  const mum = { mrn: `BTP-${L}-MUM`, name: 'Maria Haddad', birth_date: '1980-04-04' };
  const hidden = await study(teen, `BTP-${L}-TEEN-1`, 'X-ray of the left ankle', DONE, TEEN_FINDINGS);
  await call('PUT', `/api/v1/physician/studies/${hidden.study_id}/proxy-access`, DOCTOR, { not_for_proxies: true });
  const ordered = await study(teen, `BTP-${L}-TEEN-2`, 'X-ray of the left ankle', [['ordered', ORDERED]], null);
  const small = await study(child, `BTP-${L}-CHILD-1`, 'X-ray of the right wrist', DONE, CHILD_FINDINGS);
  const old = await study(dad, `BTP-${L}-DAD-1`, 'X-ray of the hip', DONE, DAD_FINDINGS);
  // The mother, who is the children's guardian, has an exam of her own: one person, two
  // identities, recorded by the operator as the same person.
  const own = await study(mum, `BTP-${L}-MUM-1`, 'X-ray of the chest', [['ordered', ORDERED]], null);
  const guardian = proxyCommand('proxy-add', 'Maria Haddad', '1980-04-04', '--patient', mum.mrn);
  proxyCommand('proxy-grant', guardian.proxy_id, teen.mrn, 'guardian');
  proxyCommand('proxy-grant', guardian.proxy_id, child.mrn, 'guardian');
  const caregiver = proxyCommand('proxy-add', 'Sam Carter', '1985-06-06');
  const until = new Date(Date.now() + 30 * 86400 * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const link = proxyCommand('proxy-grant', caregiver.proxy_id, dad.mrn, 'caregiver', '--until', until);
  return {
    hidden, ordered, small, old, own, teenBirth: teen.birth_date,
    guardian: { code: guardian.access_code, birth: '1980-04-04' },
    caregiver: { code: caregiver.access_code, birth: '1985-06-06', link: link.link_id },
  };
}

// ---- page helpers ----

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
    await page.evaluate(AXE);
  }
  const violations = await page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags } });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  }, AXE_TAGS);
  check(violations.length === 0, `axe on "${state}": ${violations.join('; ')}`);
}

// Desktop and phone; at the phone's width nothing may be wider than the screen (a word too long
// for its box in Spanish or French would be cut or make the page scroll sideways).
async function shoot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await page.screenshot({ path: path.join(SHOTS, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
  check(wide <= 0, `${name}: ${wide}px wider than a phone`);
}

async function text(locator) {
  return (await locator.innerText()).replace(/\s+/g, ' ').trim();
}

async function signInAs(page, t, url, code, birth, heading) {
  await page.goto(`${BASE}${url}`);
  await page.locator('#access-code').fill(code);
  await page.locator('#birth-date').fill(birth);
  await page.getByRole('button', { name: t('Sign in') }).click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

// ---- the story, once per language ----

const LOCALES = { en: 'en-US', es: 'es-ES', fr: 'fr-FR' };

async function walk(browser, lang) {
  const t = translator(lang);
  const sfx = lang === 'en' ? '' : `-${lang}`;
  const named = (what) => (lang === 'en' ? what : `${lang}: ${what}`);
  const s = await seed(lang);
  const contextOptions = { viewport: DESKTOP, locale: LOCALES[lang], timezoneId: 'UTC', reducedMotion: 'reduce' };
  const pages = {};
  const contexts = [];
  const errors = [];
  for (const who of ['guardian', 'caregiver', 'dad', 'teen']) {
    const ctx = await browser.newContext(contextOptions);
    contexts.push(ctx);
    pages[who] = await ctx.newPage();
    pages[who].setDefaultTimeout(10000);
    watch(pages[who], errors);
  }
  const guardianBodies = [];
  pages.guardian.on('response', async (r) => {
    try {
      guardianBodies.push(await r.text());
    } catch (e) {
      // Redirects have no body.
    }
  });
  const g = pages.guardian;
  const inLanguage = async (page) => {
    await page.waitForFunction((l) => document.documentElement.lang === l, lang);
  };

  await step(named('proxy sign-in page: own code and own birth date, no axe violations'), async () => {
    await g.goto(`${BASE}/proxy.html`);
    await g.getByRole('heading', { level: 1, name: t('Follow the results of someone you care for') }).waitFor();
    await inLanguage(g);
    await axe(g, 'proxy sign-in');
    await shoot(g, `p01-proxy-signin${sfx}`);
    await g.getByLabel(t('Your access code')).fill(s.guardian.code);
    await g.getByLabel(t('Your own date of birth')).fill('1999-09-09');
    await g.getByRole('button', { name: t('Sign in') }).click();
    await g.getByRole('alert').filter({ hasText: t('That access code and date of birth do not match our records. Use your own code and your own date of birth.') }).waitFor();
    await axe(g, 'proxy sign-in refused');
  });

  await step(named('the guardian sees the two children they follow, and her own record to switch to'), async () => {
    await signInAs(g, t, '/proxy.html', s.guardian.code, s.guardian.birth, t('People you follow'));
    const list = await text(g.locator('#patients'));
    check(list.includes('Noor Haddad') && list.includes('Leo Haddad'), `both children listed: ${list}`);
    check(list.includes(t('You are their parent or guardian')), list);
    await g.getByRole('button', { name: t('Your own record') }).waitFor();
    check(await g.locator('#own-record-elsewhere').isHidden(), 'no "your own page, your own code" beside the switch');
    await axe(g, 'proxy patients');
    await shoot(g, `p02-guardian-patients${sfx}`);
  });

  await step(named('the 14-year-old\'s confidential exam reads as an exam only ordered, with no trace'), async () => {
    await g.getByRole('link', { name: 'Noor Haddad' }).click();
    await g.getByRole('heading', { level: 1, name: 'Noor Haddad' }).waitFor();
    const cards = g.locator('#patient-studies > li');
    check(await cards.count() === 2, 'two exams');
    const [a, b] = [await text(cards.nth(0)), await text(cards.nth(1))];
    check(a === b, `the two exams read the same: "${a}" vs "${b}"`);
    check(await g.locator('#patient-access').count() === 1 && (await text(g.locator('#patient-access'))) === '',
      'no access log for a guardian of a 14-year-old');
    // As the page itself would ask (its cookie), byte for byte.
    const get = (id) => g.evaluate(async (u) => (await fetch(u)).text(), `/api/v1/proxy/studies/${id}`);
    const hiddenJson = await get(s.hidden.study_id);
    const orderedJson = await get(s.ordered.study_id);
    check(hiddenJson.startsWith('{"id"'), `a study answered: ${hiddenJson.slice(0, 80)}`);
    const orderedStudy = JSON.parse(orderedJson);
    check(orderedStudy.stage === 'ordered' && a.includes(orderedStudy.stage_label) && !a.includes(t('Read the results')),
      `shown as ordered, in the page's language ("${orderedStudy.stage_label}"): ${a}`);
    check(hiddenJson.replaceAll(s.hidden.study_id, 'ID').replace(/BTP-\w+-TEEN-1/g, 'ACC')
      === orderedJson.replaceAll(s.ordered.study_id, 'ID').replace(/BTP-\w+-TEEN-2/g, 'ACC'), `the two answers are byte for byte the same: ${hiddenJson} vs ${orderedJson}`);
    check(!guardianBodies.some((body) => body.includes('axolotl')), 'no byte of the hidden report reached the guardian');
    await axe(g, 'guardian: teen');
    await shoot(g, `p03-guardian-teen-hidden${sfx}`);
  });

  await step(named('the guardian reads the 6-year-old\'s report and sees it in the child\'s access list'), async () => {
    await g.goto(`${BASE}/proxy.html#patient/${s.small.patient_id}`);
    await g.getByRole('heading', { level: 1, name: 'Leo Haddad' }).waitFor();
    await g.getByRole('link', { name: t('Read the results for {name}', { name: 'X-ray of the right wrist' }) }).click();
    await g.getByRole('heading', { level: 2, name: t('Findings') }).waitFor();
    check((await text(g.locator('#study-body'))).includes('capybara'), 'the report is shown');
    await axe(g, 'guardian: child report');
    await shoot(g, `p04-guardian-child-report${sfx}`);
    await g.locator('#study-back').click();
    await g.getByRole('heading', { level: 2, name: t('Who has seen this record') }).waitFor();
    const log = await text(g.locator('#patient-access'));
    check(log.includes(t('{name} opened the report.', { name: 'Maria Haddad' }))
      && log.includes(t('{name} shared the report.', { name: 'Dr. Lise Meitner' })), log);
    await axe(g, 'guardian: child access list');
    await shoot(g, `p05-guardian-child-access${sfx}`);
  });

  await step(named('the guardian switches to her own record and back with one sign-in'), async () => {
    await g.goto(`${BASE}/proxy.html`);
    await g.getByRole('button', { name: t('Your own record') }).click();
    await g.getByRole('heading', { level: 1, name: t('Your exams') }).waitFor();
    await inLanguage(g);
    check(new URL(g.url()).pathname === '/', `on the patient's page: ${g.url()}`);
    const mine = await text(g.locator('#studies'));
    check(mine.includes('X-ray of the chest') && !mine.includes('X-ray of the left ankle'), `her own exam only: ${mine}`);
    await g.getByRole('button', { name: t('Family access') }).waitFor();
    await axe(g, 'guardian: own record');
    await shoot(g, `p05b-guardian-own-record${sfx}`);
    // The patient's session is a patient's: the proxy endpoints refuse it.
    const status = await g.evaluate(async () => (await fetch('/api/v1/proxy/patients')).status);
    check(status === 403, `a patient session on a proxy endpoint: ${status}`);
    await g.getByRole('button', { name: t('Family access') }).click();
    await g.getByRole('heading', { level: 1, name: t('People you follow') }).waitFor();
    check((await text(g.locator('#patients'))).includes('Leo Haddad'), 'back to the children');
  });

  const c = pages.caregiver;
  await step(named('the caregiver reads the father\'s report'), async () => {
    await signInAs(c, t, '/proxy.html', s.caregiver.code, s.caregiver.birth, t('People you follow'));
    check(await c.locator('#own-record').isHidden() && await c.locator('#own-record-elsewhere').isVisible(),
      'no switch for a caregiver who is no patient here; the own page is named instead');
    await c.getByRole('link', { name: 'Omar Haddad' }).click();
    await c.getByRole('link', { name: t('Read the results for {name}', { name: 'X-ray of the hip' }) }).click();
    await c.getByRole('heading', { level: 2, name: t('Findings') }).waitFor();
    check((await text(c.locator('#study-body'))).includes('pangolin'), 'the report is shown');
    await axe(c, 'caregiver: report');
    await shoot(c, `p06-caregiver-report${sfx}`);
  });

  await step(named('mid-story the caregiver\'s link expires: the report is gone, the page says why'), async () => {
    ownerSql(`UPDATE portal.proxy_links SET starts_at = now() - interval '40 days', ends_at = now() - interval '1 second' WHERE id = '${s.caregiver.link}'`);
    await c.reload();
    await c.getByRole('alert').filter({ hasText: t('This is no longer available to you. Your access may have ended; the clinic can renew it.') }).waitFor();
    await c.getByRole('heading', { level: 1, name: t('People you follow') }).waitFor();
    check((await text(c.locator('#patients'))).includes(t('You do not follow anyone at the moment. If you should, ask the clinic: access has an end date and may need renewing.')), 'nobody listed');
    await axe(c, 'caregiver: expired');
    await shoot(c, `p07-caregiver-expired${sfx}`);
  });

  const d = pages.dad;
  await step(named('the father\'s access list shows the caregiver\'s read, and the caregiver no longer has access'), async () => {
    await signInAs(d, t, '/', s.old.code, '1944-03-03', t('Your exams'));
    check(await d.locator('#family-access').isHidden(), 'no family access for a patient who follows no one');
    await d.getByRole('link', { name: t('Who has seen your record') }).click();
    await d.getByRole('heading', { level: 1, name: t('Who has seen your record') }).waitFor();
    const log = await text(d.locator('#access-entries'));
    check(log.includes(t('{name} (acting for you) opened the report.', { name: 'Sam Carter' })), log);
    check(log.includes(t('{name} (your doctor) shared the report with you.', { name: 'Dr. Lise Meitner' })), log);
    check(log.includes(t('{name} (your doctor) opened the report.', { name: 'Dr. Lise Meitner' })), log);
    const proxies = await text(d.locator('#proxies'));
    // One whole sentence, with the end's date when the link was ended rather than run out.
    const ended = [t('No longer has access.'), t('No longer has access (ended {date}).').split('{date}')[0]];
    check(proxies.includes('Sam Carter') && ended.some((words) => proxies.includes(words)), proxies);
    await axe(d, 'patient: access list');
    await shoot(d, `p08-patient-access-list${sfx}`);
  });

  const teen = pages.teen;
  await step(named('the 14-year-old reads their report; their access list has no read by the guardian'), async () => {
    await signInAs(teen, t, '/', s.hidden.code, s.teenBirth, t('Your exams'));
    await teen.goto(`${BASE}/#study/${s.hidden.study_id}`);
    await teen.getByRole('heading', { level: 2, name: t('Findings') }).waitFor();
    await teen.goto(`${BASE}/#access`);
    await teen.getByRole('heading', { level: 1, name: t('Who has seen your record') }).waitFor();
    const log = await text(teen.locator('#access-entries'));
    check(log.includes(t('You opened the report.')) && !log.includes('Maria Haddad'), log);
    const proxies = await text(teen.locator('#proxies'));
    check(proxies.includes('Maria Haddad') && proxies.includes(t('Parent or guardian')), proxies);
    check(await teen.getByRole('button', { name: t('End access') }).count() === 0, 'a guardian is ended by the clinic');
    await axe(teen, 'teen: access list');
    await shoot(teen, `p09-teen-access-list${sfx}`);
  });

  await step(named('no console error or page error on any page'), async () => {
    check(errors.length === 0, errors.join(' | '));
  });
  for (const ctx of contexts) {
    await ctx.close();
  }
}

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  const browser = await launchChromium(chromium);
  for (const lang of LANGS) {
    const started = Date.now();
    await walk(browser, lang);
    console.log(`# ${lang}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  await browser.close();
}

try {
  await main();
} catch (e) {
  outside('the proxy story script failed outside a step', e);
}
finish();
// The browser's and server's handles may keep node alive: the result is in.
process.exit(process.exitCode);
