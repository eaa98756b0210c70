// make bench's peer: the patient's study page as a team would write it in Node (fastify, pg,
// fast-jwt), to show the portal against it in the same run. It verifies the same HS256 tokens,
// runs the portal's own detail statement (printed from server/queries.c by print_query) against
// the same database as portal_app, and turns the row into the same page: stage, label and
// explanation, timeline, estimates, and the report with its release history once released.
// One worker process per core (node:cluster), as such a service is deployed; each has its own pool.
//
// Environment: PEER_PORT, PEER_WORKERS, PEER_POOL (connections per worker), PEER_DETAIL_SQL and
// PEER_HISTORY_SQL (files holding the statements), PORTAL_JWT_SECRET, PORTAL_JWT_ISSUER,
// PORTAL_JWT_AUDIENCE; the database from libpq's PGHOST, PGPORT, PGDATABASE, PGUSER.
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';

import Fastify from 'fastify';
import pg from 'pg';
import { createVerifier } from 'fast-jwt';

const workers = Number(process.env.PEER_WORKERS || 2);

if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) {
    cluster.fork();
  }
  cluster.on('exit', (w, code) => {
    if (code !== 0) {
      console.error(`peer: worker ${w.process.pid} exited with ${code}`);
      process.exit(1);
    }
  });
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers)) {
      w.kill('SIGTERM');
    }
    process.exit(0);
  });
} else {
  serve();
}

const STAGES = {
  ordered: ['Your exam has been ordered', 'Your doctor has asked for this imaging exam. The imaging centre will contact you to book a time.'],
  scheduled: ['Your exam is booked', 'Your appointment is booked. Please arrive a little early and bring a photo ID.'],
  checked_in: ['You have checked in', 'You are at the imaging centre. A technologist will call you in for your exam soon.'],
  imaging: ['Your images are being taken', 'A technologist is taking your images. Technologists run the scanner; they do not read the images and cannot give you results.'],
  awaiting_read: ['Your images are waiting for a radiologist', 'Your exam is finished. A radiologist, a doctor who specialises in reading medical images, will look at them next.'],
  reading: ['A radiologist is reading your images', 'A radiologist is examining your images and writing a report for your doctor.'],
  physician_review: ['Your doctor is reviewing the report', 'The radiologist\'s report has gone to your doctor, who will review it and talk the results over with you.'],
  available: ['Your results are ready', 'Your doctor has reviewed the report. You can read it now and schedule a time to talk it over.'],
  cancelled: ['This exam was cancelled', 'This exam was cancelled. If you did not expect this, please contact your doctor\'s office.'],
};

const MARKS = [
  ['ordered', 'ordered_at'], ['scheduled', 'scheduled_at'], ['checked_in', 'arrived_at'],
  ['imaging', 'exam_started_at'], ['awaiting_read', 'exam_completed_at'], ['reading', 'read_started_at'],
  ['physician_review', 'final_at'], ['available', 'released_at'], ['cancelled', 'cancelled_at'],
];

function timeline(row) {
  return MARKS.filter(([, col]) => row[col])
    .map(([stage, col]) => ({ stage, at: row[col] }))
    .sort((a, b) => a.at - b.at);
}

function estimate(row, prefix) {
  if (row[`${prefix}_level`] === null || row[`${prefix}_level`] === undefined) {
    return null;
  }
  if (!row[`${prefix}_enough`]) {
    return { status: 'too_few', sample_size: row[`${prefix}_sample_size`] };
  }
  const p50 = row[`${prefix}_p50_at`];
  const p90 = row[`${prefix}_p90_at`];
  return {
    status: 'estimated', p50_at: p50, p90_at: p90, sample_size: row[`${prefix}_sample_size`],
    window_days: row[`${prefix}_window_days`],
    summary: `Usually by ${p50.toUTCString()}; almost always by ${p90.toUTCString()}.`,
  };
}

function page(row, history) {
  const [label, explanation] = STAGES[row.stage] || [null, null];
  const study = {
    id: row.id, accession: row.accession, modality: row.modality, description: row.description,
    stage: row.stage, stage_label: label, stage_explanation: explanation,
    estimates: { report_final: estimate(row, 'ef'), available: estimate(row, 'ea') },
    report_available: row.released_version !== null, timeline: timeline(row),
  };
  if (row.scheduled_for) {
    study.scheduled_for = row.scheduled_for;
  }
  if (row.held !== null) {
    study.held = row.held;
  }
  if (row.version !== null && row.version !== undefined) {
    study.report = {
      version: row.version, status: row.status, findings: row.findings, impression: row.impression,
      radiologist: row.radiologist, signed_at: row.signed_at, released_at: row.report_released_at,
      released_by: row.released_by, physician_note: row.physician_note,
      amended: row.status === 'amended', newer_version_pending: Boolean(row.newer_version_pending),
    };
    if (history.length > 1) {
      study.report.history = history.map((h) => ({ version: h.version, status: h.status, released_at: h.released_at }));
    }
    study.discussion = {
      prompt: `${row.physician_name} has reviewed your results. Schedule a time to talk them over.`,
      physician: { name: row.physician_name, phone: row.physician_phone, scheduling_url: row.scheduling_url },
      request: { state: row.discussion_state || 'none', url: `/api/v1/patient/studies/${row.id}/discussion-requests` },
    };
  }
  return study;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function problem(reply, status, title) {
  return reply.code(status).type('application/problem+json').send({ type: 'about:blank', title, status });
}

function serve() {
  // print_query writes "NPARAMS SQL".
  const statement = (file) => readFileSync(file, 'utf8').replace(/^\d+ /, '').trim();
  const detailSql = statement(process.env.PEER_DETAIL_SQL);
  const historySql = statement(process.env.PEER_HISTORY_SQL);
  const verify = createVerifier({
    key: process.env.PORTAL_JWT_SECRET, algorithms: ['HS256'],
    allowedIss: process.env.PORTAL_JWT_ISSUER, allowedAud: process.env.PORTAL_JWT_AUDIENCE,
    requiredClaims: ['sub', 'role', 'exp'],
  });
  const pool = new pg.Pool({ max: Number(process.env.PEER_POOL || 4) });
  const app = Fastify({ logger: false });

  app.get('/api/v1/patient/studies/:id', async (request, reply) => {
    const auth = request.headers.authorization || '';
    let claims;
    try {
      claims = verify(auth.startsWith('Bearer ') ? auth.slice(7) : '');
    } catch {
      return problem(reply, 401, 'Sign in again.');
    }
    if (claims.role !== 'patient' || !UUID.test(claims.sub)) {
      return problem(reply, 403, 'Not allowed.');
    }
    if (!UUID.test(request.params.id)) {
      return problem(reply, 404, 'No such study.');
    }
    const rid = randomUUID();
    // Prepared by name on each pooled connection, as the portal prepares its statements.
    const { rows } = await pool.query({ name: 'patient_study', text: detailSql, values: [claims.sub, request.params.id, rid, request.ip] });
    if (!rows.length) {
      return problem(reply, 404, 'No such study.');
    }
    let history = [];
    if (rows[0].version !== null && rows[0].released_version !== null) {
      history = (await pool.query({ name: 'release_history', text: historySql, values: [rows[0].id] })).rows;
    }
    return page(rows[0], history);
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.listen({ host: '127.0.0.1', port: Number(process.env.PEER_PORT) }).catch((err) => {
    console.error(`peer: cannot listen: ${err.message}`);
    process.exit(1);
  });
}
