// The staff console's story (issue 17) in Debian's chromium: an admin signs in with a TOTP code,
// invites a physician, who sets a password on the invitation page, signs in and releases a report;
// a front-desk user finds a patient, prints a new access code (the print view screenshotted in
// print media), and the patient signs in with it; the front desk prints sheets in the patients'
// languages (es, fr: screenshotted) and adds, renews and ends a proxy, answers a call-back request
// by keyboard,, who signs in with the code
// from their sheet; the admin previews a policy that would release
// reports, cancels, then saves a narrower one; every step is then found in the audit log. axe-core
// on every state; screenshots to $SCREENSHOTS (staff-*). Run by tests/suites/browser.sh before
// story.mjs, whose end stops the server and the database.
import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { AXE, AXE_TAGS, DESKTOP, check, env, steps } from './lib.mjs';

const BASE = env('PORTAL_URL');
const SHOTS = env('SCREENSHOTS');
const PORTALD = env('PORTALD');
const RIS = env('RIS_TOKEN');
const OWNER_URL = env('PORTAL_MIGRATE_DATABASE_URL');
const SITE = 'staff-story';
const PHYSICIAN = 'BS-NPI-7';
const BIRTH = '1979-04-02';
const SECRET_WORD = 'finding-word axolotl';
const STAFF_PASSWORD = `staff-${Math.random().toString(36).slice(2)}-${Date.now()}`;
const DOCTOR_PASSWORD = `doctor-${Math.random().toString(36).slice(2)}-${Date.now()}`;

const { step, outside, finish } = steps();

// RFC 6238 in node's crypto, independent of the server's copy.
function totp(secret) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const off = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

function staffAdd(id, role, name) {
  const out = execFileSync(PORTALD, ['staff-add', id, role, name], { input: `${STAFF_PASSWORD}\n` }).toString();
  const uri = out.match(/otpauth:\/\/\S+/)[0];
  return new URL(uri).searchParams.get('secret');
}

function sql(statement) {
  return execFileSync('psql', ['-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', OWNER_URL, '-c', statement]).toString();
}

function audit() {
  return execFileSync('psql', ['-X', '-q', '-t', '-A', OWNER_URL, '-c',
    'SELECT actor_role || \' \' || actor_id || \' \' || action FROM portal.audit_log ORDER BY id'])
    .toString().split('\n').filter(Boolean);
}

async function ingest(kind, body) {
  const res = await fetch(`${BASE}/api/v1/ingest/${kind}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${RIS}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const data = await res.json();
  check(res.status < 300, `ingest ${kind}: ${res.status} ${JSON.stringify(data)}`);
  return data;
}

async function studyWithFinalReport(accession, mrn, name) {
  const made = await ingest('events', {
    event_id: `bs-${accession}`, type: 'exam_completed', occurred_at: new Date(Date.now() - 86400000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    patient: { mrn, name, birth_date: BIRTH, email: 'grace@example.org' },
    study: { accession, modality: 'CT', description: 'CT head without contrast', priority: 'routine', site: SITE },
    referring_physician: { id: PHYSICIAN, name: 'Dr. Rosalind Franklin', phone: '+1 555 0199' },
  });
  await ingest('reports', {
    event_id: `bs-${accession}-r`, accession, status: 'final', findings: `Normal brain (${SECRET_WORD}).`,
    impression: 'No acute intracranial abnormality.', radiologist: { name: 'Dr. Marie Curie' },
    signed_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  });
  return made;
}

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
    return r.violations.map((v) => `${v.id}: ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  }, AXE_TAGS);
  check(violations.length === 0, `axe on "${state}": ${violations.join('; ')}`);
}

async function shoot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `staff-${name}.png`), fullPage: true, timeout: 30000 });
}

async function signInStaff(page, id, secret) {
  await page.goto(`${BASE}/staff.html`);
  await page.getByRole('heading', { level: 1, name: 'Staff sign-in' }).waitFor();
  await page.getByLabel('Staff id').fill(id);
  await page.getByLabel('Password').fill(STAFF_PASSWORD);
  await page.getByLabel('Code from your authenticator app').fill(totp(secret));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Patients' }).waitFor();
}

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  const adminSecret = staffAdd('ann.admin', 'admin', 'Ann Admin');
  const deskSecret = staffAdd('dan.desk', 'staff', 'Dan Desk');
  const released = await studyWithFinalReport('BS-CT-1', 'BS-MRN-1', 'Grace Brewster');
  await studyWithFinalReport('BS-CT-2', 'BS-MRN-2', 'Katherine Johnson');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const options = { viewport: DESKTOP, locale: 'en-US', timezoneId: 'UTC', reducedMotion: 'reduce' };
  const [admin, desk, doctor, patient, proxy] = await Promise.all([0, 1, 2, 3, 4].map(async () => {
    const page = await (await browser.newContext(options)).newPage();
    page.setDefaultTimeout(10000);
    return page;
  }));
  const errors = [];
  for (const p of [admin, desk, doctor, patient, proxy]) {
    watch(p, errors);
  }
  // Every answer the staff pages receive, searched for the report's words at the end.
  const staffBodies = [];
  for (const p of [admin, desk]) {
    p.on('response', async (r) => {
      try {
        staffBodies.push(await r.text());
      } catch (e) {
        // Redirects have no body.
      }
    });
  }
  let invitation = null;
  let accessCode = null;

  await step('the admin signs in with password and TOTP code', async () => {
    await admin.goto(`${BASE}/staff.html`);
    await admin.getByRole('heading', { level: 1, name: 'Staff sign-in' }).waitFor();
    await axe(admin, 'staff sign-in');
    await shoot(admin, '01-signin');
    await signInStaff(admin, 'ann.admin', adminSecret);
    check(await admin.getByRole('link', { name: 'Release policies' }).isVisible(), 'the admin sees the admin tabs');
    await axe(admin, 'staff patients (admin)');
  });

  await step('the admin invites a physician, who sets a password, signs in and releases a report', async () => {
    await admin.getByRole('link', { name: 'Physicians' }).click();
    await admin.getByRole('heading', { level: 1, name: 'Physicians' }).waitFor();
    const row = admin.locator('tr', { hasText: PHYSICIAN });
    check((await row.innerText()).includes('No password yet'), 'the physician has no password yet');
    await row.getByRole('button', { name: 'Invite' }).click();
    await admin.getByRole('heading', { level: 2, name: 'Invitation' }).waitFor();
    invitation = (await admin.locator('.invitation-code').innerText()).trim();
    check(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/.test(invitation), `an invitation code: ${invitation}`);
    await axe(admin, 'staff physicians with an invitation');
    await shoot(admin, '02-physicians-invitation');
    await doctor.goto(`${BASE}/invitation.html#code=${invitation}`);
    await doctor.getByRole('heading', { level: 1, name: 'Set your password' }).waitFor();
    check(!doctor.url().includes(invitation), 'the code leaves the address bar at once');
    await axe(doctor, 'invitation page');
    await doctor.getByLabel('New password').fill(DOCTOR_PASSWORD);
    await doctor.getByRole('button', { name: 'Set my password' }).click();
    await doctor.getByRole('heading', { level: 1, name: 'Your password is set' }).waitFor();
    await axe(doctor, 'invitation used');
    await shoot(doctor, '03-invitation-done');
    await doctor.goto(`${BASE}/physician.html`);
    await doctor.getByLabel('Physician id').fill(PHYSICIAN);
    await doctor.getByLabel('Password').fill(DOCTOR_PASSWORD);
    await doctor.getByRole('button', { name: 'Sign in' }).click();
    await doctor.getByRole('heading', { level: 1, name: 'Worklist' }).waitFor();
    await doctor.goto(`${BASE}/physician.html#study/${released.study_id}`);
    await doctor.getByRole('button', { name: 'Release to patient' }).click();
    await doctor.getByRole('status').filter({ hasText: 'Report released to Grace Brewster' }).waitFor();
  });

  await step('the front desk finds the patient and prints a new access code', async () => {
    await signInStaff(desk, 'dan.desk', deskSecret);
    check(await desk.getByRole('link', { name: 'Release policies' }).isHidden(), 'the front desk sees no admin tab');
    await desk.getByLabel('Name (any part)').fill('brewster');
    await desk.getByLabel('Birth date', { exact: true }).fill(BIRTH);
    await desk.getByRole('button', { name: 'Find' }).click();
    const row = desk.locator('tr', { hasText: 'Grace Brewster' });
    await row.waitFor();
    await axe(desk, 'staff patient found');
    await shoot(desk, '04-patient-found');
    await row.getByRole('button', { name: 'Contact details' }).click();
    await desk.getByRole('heading', { level: 2, name: 'Contact details of Grace Brewster' }).waitFor();
    await desk.getByLabel('Phone for text messages (empty: the registration\'s)').fill('+1 555 0123');
    await desk.getByLabel('How to tell them a result is ready').selectOption('both');
    await axe(desk, 'staff contact details');
    await desk.getByRole('button', { name: 'Save contact details' }).click();
    await desk.getByRole('status').filter({ hasText: 'contact details of Grace Brewster are saved' }).waitFor();
    await row.getByRole('button', { name: 'New access code' }).click();
    await desk.getByRole('heading', { level: 1, name: 'Your results portal access code' }).waitFor();
    accessCode = (await desk.locator('#print-code').innerText()).trim();
    check(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/.test(accessCode), `a code on the sheet: ${accessCode}`);
    check((await desk.locator('#print-url').innerText()).startsWith('http'), 'the portal address on the sheet');
    await axe(desk, 'access code print view');
    await shoot(desk, '05-print-view-screen');
    await desk.emulateMedia({ media: 'print' });
    check(await desk.locator('.tabs').isHidden() && await desk.getByRole('button', { name: 'Print' }).isHidden(),
      'printing shows the sheet only');
    await shoot(desk, '06-print-view-printed');
    await desk.emulateMedia({ media: 'screen' });
  });

  await step('the patient signs in with the printed code and reads the released report', async () => {
    await patient.goto(`${BASE}/`);
    await patient.getByLabel('Access code').fill(accessCode);
    await patient.getByLabel('Your date of birth').fill(BIRTH);
    await patient.getByRole('button', { name: 'Sign in' }).click();
    await patient.getByRole('heading', { level: 1, name: 'Your exams' }).waitFor();
    await patient.getByRole('link', { name: /CT head without contrast/ }).first().waitFor();
  });

  await step('the front desk answers a patient\'s call-back request, by keyboard', async () => {
    const soon = new Date(Date.now() + 2 * 86400000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    // Asked from the patient's own page (its session cookie, its Origin), as its form does.
    const asked = await patient.evaluate(async ([study, when]) => {
      const res = await fetch(`/api/v1/patient/studies/${study}/discussion-requests`, {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ preferred_times: [when], message: 'Mornings are best' }),
      });
      return `${res.status} ${await res.text()}`;
    }, [released.study_id, soon]);
    check(/^20[01] /.test(asked), `the patient asks for a call-back: ${asked}`);
    await desk.getByRole('link', { name: 'Call-backs' }).click();
    await desk.getByRole('heading', { level: 1, name: 'Call-backs' }).waitFor();
    const card = desk.locator('li.card', { hasText: 'Grace Brewster' });
    await card.waitFor();
    check((await card.innerText()).includes('Mornings are best'), 'the patient\'s message is shown');
    await axe(desk, 'call-backs');
    await shoot(desk, '09b-callbacks');
    await card.getByLabel('Mark the request').focus();
    await card.getByLabel('Mark the request').selectOption('scheduled');
    await desk.keyboard.press('Tab');
    check(await card.getByLabel('Time of the discussion').evaluate((n) => n === document.activeElement),
      'Tab goes from the state to the time');
    await card.getByLabel('Time of the discussion').fill('2030-01-15T10:30');
    // (Tab walks the date and time input's own parts in Chromium; the message is its next field.)
    await card.getByLabel('Message to the patient (optional)').focus();
    await desk.keyboard.type('Dr. Franklin will call you in the morning.');
    await desk.keyboard.press('Tab');
    await desk.keyboard.press('Enter');
    await desk.getByRole('status').filter({ hasText: 'The request of Grace Brewster is saved: Scheduled.' }).waitFor();
    const again = desk.locator('li.card', { hasText: 'Grace Brewster' });
    const shown = await again.innerText();
    check(shown.includes('Discussion scheduled for') && shown.includes('Dr. Franklin will call you'), `scheduled: ${shown}`);
    await axe(desk, 'call-back scheduled');
    await again.getByLabel('Mark the request').selectOption('closed');
    await again.getByRole('button', { name: 'Save' }).click();
    await desk.getByText('No call-back to answer.').waitFor();
    await axe(desk, 'call-backs answered');
  });

  await step('the front desk prints sheets in the patient\'s language and manages a proxy', async () => {
    sql("UPDATE portal.patients SET language = 'es' WHERE mrn = 'BS-MRN-2'");
    sql("UPDATE portal.patients SET language = 'fr' WHERE mrn = 'BS-MRN-1'");
    await desk.getByRole('link', { name: 'Patients' }).click();
    await desk.getByRole('heading', { level: 1, name: 'Patients' }).waitFor();
    const find = async (name) => {
      await desk.getByLabel('Identifier (MRN)').fill('');
      await desk.getByLabel('Name (any part)').fill(name);
      await desk.getByLabel('Birth date', { exact: true }).fill(BIRTH);
      await desk.getByRole('button', { name: 'Find' }).click();
      const row = desk.locator('tr', { hasText: name });
      await row.waitFor();
      return row;
    };
    const sheet = async (heading, lang, words, shot) => {
      try {
        await desk.getByRole('heading', { level: 1, name: heading }).waitFor();
      } catch (e) {
        throw new Error(`no sheet "${heading}"; the page says: ${await desk.locator('#error').innerText()} ${await desk.locator('#status').innerText()}`);
      }
      check(await desk.locator('#print-view').getAttribute('lang') === lang, `the sheet is marked lang=${lang}`);
      const text = await desk.locator('#print-view').innerText();
      for (const w of words) {
        check(text.includes(w), `the ${lang} sheet says "${w}": ${text}`);
      }
      const code = (await desk.locator('#print-code').innerText()).trim();
      check(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/.test(code), `a code on the ${lang} sheet: ${code}`);
      await axe(desk, `${lang} sheet ${heading}`);
      await desk.emulateMedia({ media: 'print' });
      await shoot(desk, shot);
      await desk.emulateMedia({ media: 'screen' });
      await desk.getByRole('button', { name: 'Back to patients' }).click();
      return code;
    };
    let row = await find('Johnson');
    await row.getByRole('button', { name: 'New access code' }).click();
    await sheet('Su código de acceso al portal de resultados', 'es',
      ['Para Katherine Johnson (BS-MRN-2)', 'Cómo iniciar sesión', 'Vaya a esta dirección:', 'su fecha de nacimiento'],
      '10-sheet-es-printed');
    await row.getByRole('button', { name: 'Proxies' }).click();
    await desk.getByRole('heading', { level: 2, name: 'Proxies of Katherine Johnson' }).waitFor();
    await desk.getByText('No proxy yet.').waitFor();
    await axe(desk, 'proxies, none yet');
    // A guardian for an adult is refused, and the reason is shown.
    await desk.getByLabel('Proxy\'s full name').fill('Paul Proxy');
    await desk.getByLabel('Proxy\'s own birth date').fill('1950-06-01');
    await desk.getByLabel('Kind', { exact: true }).selectOption('guardian');
    await desk.getByRole('button', { name: 'Add and print their code' }).click();
    await desk.getByRole('alert').filter({ hasText: 'of age' }).waitFor();
    await axe(desk, 'proxy refused');
    await desk.getByLabel('Kind', { exact: true }).selectOption('caregiver');
    const until = new Date(Date.now() + 30 * 86400000).toISOString().slice(0, 10);
    await desk.getByLabel('Until (required for a caregiver)').fill(until);
    await desk.getByRole('button', { name: 'Add and print their code' }).click();
    const proxyCode = await sheet('Su código de acceso familiar', 'es',
      ['Para Paul Proxy, para seguir los resultados de Katherine Johnson', '/proxy.html',
        'su propia fecha de nacimiento, no la del paciente'], '11-proxy-sheet-es-printed');
    await proxy.goto(`${BASE}/proxy.html`);
    await proxy.getByLabel('Your access code').fill(proxyCode);
    await proxy.getByLabel('Your own date of birth').fill('1950-06-01');
    await proxy.getByRole('button', { name: 'Sign in' }).click();
    await proxy.getByRole('heading', { level: 1, name: 'People you follow' }).waitFor();
    check((await proxy.locator('#patients').innerText()).includes('Katherine Johnson'), 'the proxy follows the patient');
    const link = desk.locator('tr', { hasText: 'Paul Proxy' });
    check((await link.innerText()).includes('In force'), 'the link is in force');
    await axe(desk, 'proxies listed');
    await shoot(desk, '12-proxies');
    await link.getByRole('button', { name: 'Renew Paul Proxy' }).click();
    const later = new Date(Date.now() + 90 * 86400000).toISOString().slice(0, 10);
    await desk.getByLabel('New end date').fill(later);
    await axe(desk, 'renew form');
    await desk.getByRole('button', { name: 'Save the new end' }).click();
    await desk.getByRole('status').filter({ hasText: 'The access of Paul Proxy now ends on' }).waitFor();
    await link.getByRole('button', { name: 'End access of Paul Proxy' }).click();
    await desk.getByRole('status').filter({ hasText: 'Paul Proxy no longer has access' }).waitFor();
    check((await link.innerText()).includes('Ended'), 'the link shows as ended');
    row = await find('Brewster');
    await row.getByRole('button', { name: 'New access code' }).click();
    await sheet('Votre code d’accès au portail de résultats', 'fr',
      ['Pour Grace Brewster (BS-MRN-1)', 'Comment vous connecter', 'Allez à cette adresse :', 'votre date de naissance'],
      '13-sheet-fr-printed');
  });

  await step('the admin previews a policy that would release a report, cancels, saves a narrower one', async () => {
    await admin.getByRole('link', { name: 'Release policies' }).click();
    await admin.getByRole('heading', { level: 1, name: 'Release policies' }).waitFor();
    await admin.getByLabel('Site (* for every site)').fill(SITE);
    await admin.getByLabel('Mode').selectOption('immediate');
    await admin.getByRole('button', { name: 'Preview' }).click();
    await admin.getByRole('heading', { level: 2, name: 'Confirm the change' }).waitFor();
    const warning = (await admin.locator('#policy-confirm-text').innerText()).trim();
    check(/would release 1 waiting report to patients at once/.test(warning), `the warning: ${warning}`);
    await axe(admin, 'policy preview');
    await shoot(admin, '07-policy-preview');
    await admin.getByRole('button', { name: 'Cancel' }).click();
    check(await admin.getByRole('heading', { level: 2, name: 'Confirm the change' }).isHidden(), 'cancelled');
    check(!(await admin.locator('#policies-table').innerText()).includes(SITE), 'nothing saved');
    await admin.getByLabel('Mode').selectOption('physician_review');
    await admin.getByLabel('Release automatically after (hours; empty: never)').fill('720');
    await admin.getByRole('button', { name: 'Preview' }).click();
    await admin.locator('#policy-confirm-text').filter({ hasText: 'would release no waiting report' }).waitFor();
    await admin.getByLabel('Reason for the change').fill('CT results reach patients after 30 days at the latest');
    await admin.getByRole('button', { name: 'Save the policy' }).click();
    await admin.getByRole('status').filter({ hasText: 'The policy is saved' }).waitFor();
    check((await admin.locator('#policies-table').innerText()).includes(SITE), 'the saved row is listed');
    await axe(admin, 'policy saved');
    await shoot(admin, '08-policy-saved');
  });

  await step('the operations views load (holds, overdue, notifications, configuration)', async () => {
    await admin.getByRole('link', { name: 'Operations' }).click();
    await admin.getByRole('heading', { level: 2, name: 'Configuration' }).waitFor();
    await admin.locator('#config-table td', { hasText: 'PORTAL_JWT_SECRET' }).waitFor();
    check(!(await admin.locator('#config-table').innerText()).includes(process.env.PORTAL_JWT_SECRET), 'no secret shown');
    await axe(admin, 'operations');
    await shoot(admin, '09-operations');
  });

  await step('the admin enters a public holiday, which the estimates then count, and opens it again', async () => {
    await admin.getByRole('button', { name: 'Mark closed' }).click();
    await admin.getByRole('alert').filter({ hasText: 'Please enter the day.' }).waitFor();
    await admin.getByLabel('Day', { exact: true }).fill('2030-01-07');
    await admin.getByLabel('Note (optional)').fill('New Year holiday');
    await admin.getByRole('button', { name: 'Mark closed' }).click();
    await admin.getByRole('status').filter({ hasText: 'is marked closed; estimates now count it.' }).waitFor();
    const row = admin.locator('#closed-table tr', { hasText: 'New Year holiday' });
    await row.waitFor();
    check((await row.innerText()).includes('Monday 7 January 2030') || (await row.innerText()).includes('Monday, January 7, 2030'),
      `the closed day is listed: ${await row.innerText()}`);
    await axe(admin, 'closed days');
    await row.getByRole('button', { name: 'Open again' }).click();
    await admin.getByRole('status').filter({ hasText: 'is no longer marked closed.' }).waitFor();
    await admin.locator('#closed-table', { hasText: 'No closed day is entered.' }).waitFor();
  });

  await step('every step is in the audit log, and no staff answer carried report text', async () => {
    const log = audit();
    for (const want of ['operator cli staff.add', 'admin ann.admin login.success', 'admin ann.admin physician.invite',
      'admin ann.admin closed_day.set', 'admin ann.admin closed_day.remove',
      `physician ${PHYSICIAN} physician.password_set`, `physician ${PHYSICIAN} login.success`,
      'staff dan.desk login.success', 'staff dan.desk patient.search', 'staff dan.desk patient.contact',
      'staff dan.desk access_code.issue', 'staff dan.desk proxy.code', 'staff dan.desk proxy.grant',
      'staff dan.desk proxy.renew', 'staff dan.desk proxy.end', 'staff dan.desk staff.discussions.list',
      'staff dan.desk discussion.scheduled', 'staff dan.desk discussion.closed',
      'admin ann.admin policy.preview', 'admin ann.admin policy.save']) {
      check(log.includes(want), `audit has "${want}"`);
    }
    check(log.some((l) => l.startsWith(`physician ${PHYSICIAN} report.release`)), 'the release is audited');
    check(log.filter((l) => l === 'admin ann.admin policy.preview').length === 2, 'both previews are audited');
    check(staffBodies.every((b) => !b.includes(SECRET_WORD)), 'no staff answer holds report text');
    check(errors.length === 0, errors.join(' | '));
  });

  await browser.close();
}

try {
  await main();
} catch (e) {
  outside('the staff story failed outside a step', e);
}
finish();
// The browser's and server's handles may keep node alive: the result is in.
process.exit(process.exitCode);
