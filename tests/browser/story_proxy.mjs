// Proxy access and "who has seen my record" in Debian's chromium (issue 16): a guardian follows a
// 6-year-old and a 14-year-old whose report the physician marked not for proxies (hidden from the
// guardian with no trace: it reads exactly as the teen's exam that is only ordered); a caregiver
// reads an adult's report, then the link expires mid-story; the patients' access lists show each
// of those reads. axe-core on every page state; screenshots to $SCREENSHOTS (p-*.png). Run by
// tests/suites/browser.sh after story.mjs, on a restarted server; ends with "N passed, N failed".
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { AXE, AXE_TAGS, DESKTOP, PHONE, check, env, steps } from './lib.mjs';

const BASE = env('PORTAL_URL');
const SHOTS = env('SCREENSHOTS');
const PORTALD = env('PORTALD');
const NPI = 'BTP-NPI-1';
const TEEN_FINDINGS = 'Small cyst (finding-word axolotl), nothing to treat.';
const CHILD_FINDINGS = 'Normal wrist (finding-word capybara).';
const DAD_FINDINGS = 'Mild arthritis of the hip (finding-word pangolin).';

const { step, outside, finish } = steps();

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

async function seed() {
  const teen = { mrn: 'BTP-TEEN', name: 'Noor Haddad', birth_date: birthForAge(14) };
  const child = { mrn: 'BTP-CHILD', name: 'Leo Haddad', birth_date: birthForAge(6) };
  const dad = { mrn: 'BTP-DAD', name: 'Omar Haddad', birth_date: '1944-03-03' };
  const hidden = await study(teen, 'BTP-TEEN-1', 'X-ray of the left ankle', DONE, TEEN_FINDINGS);
  await call('PUT', `/api/v1/physician/studies/${hidden.study_id}/proxy-access`, DOCTOR, { not_for_proxies: true });
  const ordered = await study(teen, 'BTP-TEEN-2', 'X-ray of the left ankle', [['ordered', ORDERED]], null);
  const small = await study(child, 'BTP-CHILD-1', 'X-ray of the right wrist', DONE, CHILD_FINDINGS);
  const old = await study(dad, 'BTP-DAD-1', 'X-ray of the hip', DONE, DAD_FINDINGS);
  const guardian = proxyCommand('proxy-add', 'Maria Haddad', '1980-04-04');
  proxyCommand('proxy-grant', guardian.proxy_id, 'BTP-TEEN', 'guardian');
  proxyCommand('proxy-grant', guardian.proxy_id, 'BTP-CHILD', 'guardian');
  const caregiver = proxyCommand('proxy-add', 'Sam Carter', '1985-06-06');
  const until = new Date(Date.now() + 30 * 86400 * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const link = proxyCommand('proxy-grant', caregiver.proxy_id, 'BTP-DAD', 'caregiver', '--until', until);
  return {
    hidden, ordered, small, old, teenBirth: teen.birth_date,
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

async function shoot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: path.join(SHOTS, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
}

async function text(locator) {
  return (await locator.innerText()).replace(/\s+/g, ' ').trim();
}

async function signInAs(page, url, code, birth, heading) {
  await page.goto(`${BASE}${url}`);
  await page.getByLabel(/access code/i).fill(code);
  await page.getByLabel(/date of birth/i).fill(birth);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

// ---- the story ----

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  const s = await seed();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const contextOptions = { viewport: DESKTOP, locale: 'en-US', timezoneId: 'UTC', reducedMotion: 'reduce' };
  const pages = {};
  const errors = [];
  for (const who of ['guardian', 'caregiver', 'dad', 'teen']) {
    const ctx = await browser.newContext(contextOptions);
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

  await step('proxy sign-in page: own code and own birth date, no axe violations', async () => {
    await g.goto(`${BASE}/proxy.html`);
    await g.getByRole('heading', { level: 1, name: 'Follow the results of someone you care for' }).waitFor();
    await axe(g, 'proxy sign-in');
    await shoot(g, 'p01-proxy-signin');
    await g.getByLabel('Your access code').fill(s.guardian.code);
    await g.getByLabel('Your own date of birth').fill('1999-09-09');
    await g.getByRole('button', { name: 'Sign in' }).click();
    await g.getByRole('alert').filter({ hasText: 'do not match' }).waitFor();
    await axe(g, 'proxy sign-in refused');
  });

  await step('the guardian sees the two children they follow', async () => {
    await signInAs(g, '/proxy.html', s.guardian.code, s.guardian.birth, 'People you follow');
    const list = await text(g.locator('#patients'));
    check(list.includes('Noor Haddad') && list.includes('Leo Haddad'), `both children listed: ${list}`);
    check(list.includes('You are their parent or guardian'), list);
    await axe(g, 'proxy patients');
    await shoot(g, 'p02-guardian-patients');
  });

  await step('the 14-year-old\'s confidential exam reads as an exam only ordered, with no trace', async () => {
    await g.getByRole('link', { name: 'Noor Haddad' }).click();
    await g.getByRole('heading', { level: 1, name: 'Noor Haddad' }).waitFor();
    const cards = g.locator('#patient-studies > li');
    check(await cards.count() === 2, 'two exams');
    const [a, b] = [await text(cards.nth(0)), await text(cards.nth(1))];
    check(a === b, `the two exams read the same: "${a}" vs "${b}"`);
    check(/Ordered|ordered/.test(a) && !a.includes('Read the results'), a);
    check(await g.locator('#patient-access').count() === 1 && (await text(g.locator('#patient-access'))) === '',
      'no access log for a guardian of a 14-year-old');
    // As the page itself would ask (its cookie), byte for byte.
    const get = (id) => g.evaluate(async (u) => (await fetch(u)).text(), `/api/v1/proxy/studies/${id}`);
    const hiddenJson = await get(s.hidden.study_id);
    const orderedJson = await get(s.ordered.study_id);
    check(hiddenJson.startsWith('{"id"'), `a study answered: ${hiddenJson.slice(0, 80)}`);
    check(hiddenJson.replaceAll(s.hidden.study_id, 'ID').replaceAll('BTP-TEEN-1', 'ACC')
      === orderedJson.replaceAll(s.ordered.study_id, 'ID').replaceAll('BTP-TEEN-2', 'ACC'), `the two answers are byte for byte the same: ${hiddenJson} vs ${orderedJson}`);
    check(!guardianBodies.some((b) => b.includes('axolotl')), 'no byte of the hidden report reached the guardian');
    await axe(g, 'guardian: teen');
    await shoot(g, 'p03-guardian-teen-hidden');
  });

  await step('the guardian reads the 6-year-old\'s report and sees it in the child\'s access list', async () => {
    await g.goto(`${BASE}/proxy.html#patient/${s.small.patient_id}`);
    await g.getByRole('heading', { level: 1, name: 'Leo Haddad' }).waitFor();
    await g.getByRole('link', { name: 'Read the results for X-ray of the right wrist' }).click();
    await g.getByRole('heading', { level: 2, name: 'Findings' }).waitFor();
    check((await text(g.locator('#study-body'))).includes('capybara'), 'the report is shown');
    await axe(g, 'guardian: child report');
    await shoot(g, 'p04-guardian-child-report');
    await g.getByRole('link', { name: 'Back' }).click();
    await g.getByRole('heading', { level: 2, name: 'Who has seen this record' }).waitFor();
    const log = await text(g.locator('#patient-access'));
    check(log.includes('Maria Haddad opened the report') && log.includes('Dr. Lise Meitner shared the report'), log);
    await axe(g, 'guardian: child access list');
    await shoot(g, 'p05-guardian-child-access');
  });

  const c = pages.caregiver;
  await step('the caregiver reads the father\'s report', async () => {
    await signInAs(c, '/proxy.html', s.caregiver.code, s.caregiver.birth, 'People you follow');
    await c.getByRole('link', { name: 'Omar Haddad' }).click();
    await c.getByRole('link', { name: 'Read the results for X-ray of the hip' }).click();
    await c.getByRole('heading', { level: 2, name: 'Findings' }).waitFor();
    check((await text(c.locator('#study-body'))).includes('pangolin'), 'the report is shown');
    await axe(c, 'caregiver: report');
    await shoot(c, 'p06-caregiver-report');
  });

  await step('mid-story the caregiver\'s link expires: the report is gone, the page says why', async () => {
    ownerSql(`UPDATE portal.proxy_links SET starts_at = now() - interval '40 days', ends_at = now() - interval '1 second' WHERE id = '${s.caregiver.link}'`);
    await c.reload();
    await c.getByRole('alert').filter({ hasText: 'no longer available to you' }).waitFor();
    await c.getByRole('heading', { level: 1, name: 'People you follow' }).waitFor();
    check((await text(c.locator('#patients'))).includes('You do not follow anyone'), 'nobody listed');
    await axe(c, 'caregiver: expired');
    await shoot(c, 'p07-caregiver-expired');
  });

  const d = pages.dad;
  await step('the father\'s access list shows the caregiver\'s read, and the caregiver no longer has access', async () => {
    await signInAs(d, '/', s.old.code, '1944-03-03', 'Your exams');
    await d.getByRole('link', { name: 'Who has seen your record' }).click();
    await d.getByRole('heading', { level: 1, name: 'Who has seen your record' }).waitFor();
    const log = await text(d.locator('#access-entries'));
    check(log.includes('Sam Carter (acting for you) opened the report'), log);
    check(log.includes('Dr. Lise Meitner (your doctor) shared the report with you'), log);
    check(log.includes('Dr. Lise Meitner (your doctor) opened the report'), log);
    const proxies = await text(d.locator('#proxies'));
    check(proxies.includes('Sam Carter') && proxies.includes('No longer has access'), proxies);
    await axe(d, 'patient: access list');
    await shoot(d, 'p08-patient-access-list');
  });

  const t = pages.teen;
  await step('the 14-year-old reads their report; their access list has no read by the guardian', async () => {
    await signInAs(t, '/', s.hidden.code, s.teenBirth, 'Your exams');
    await t.goto(`${BASE}/#study/${s.hidden.study_id}`);
    await t.getByRole('heading', { level: 2, name: 'Findings' }).waitFor();
    await t.goto(`${BASE}/#access`);
    await t.getByRole('heading', { level: 1, name: 'Who has seen your record' }).waitFor();
    const log = await text(t.locator('#access-entries'));
    check(log.includes('You opened the report') && !log.includes('Maria Haddad'), log);
    const proxies = await text(t.locator('#proxies'));
    check(proxies.includes('Maria Haddad') && proxies.includes('Parent or guardian'), proxies);
    check(await t.getByRole('button', { name: /End access/ }).count() === 0, 'a guardian is ended by the clinic');
    await axe(t, 'teen: access list');
    await shoot(t, 'p09-teen-access-list');
  });

  await step('no console error or page error on any page', async () => {
    check(errors.length === 0, errors.join(' | '));
  });
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
