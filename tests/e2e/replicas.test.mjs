// Replicas: two `phigate serve` processes sharing one PostgreSQL vault serve the
// same tenant consistently — the same value in the same conversation gets the
// same token on either replica, so either re-identifies the model's answer —
// and share their breach incidents: each replica's leak is numbered in one
// sequence and listed from the shared database.
// Runs when PHIGATE_TEST_PG_URL is set (tools/test.sh starts a server); skips otherwise.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { startFakeUpstream } from './fake_upstream.mjs';
import { startServe } from './serve.mjs';
import { synthPatients } from './patients.mjs';

const BIN = process.env.PHIGATE_BIN;
const PG = process.env.PHIGATE_TEST_PG_URL;
const KEY = 'pg_e2e_replica';
const CANARY_SEED = 5151;
// A synthetic patient written by the project's generator (patients.mjs).
const P = synthPatients(BIN, 20261206, 1)[0];
const NOTE = `Patient: ${P.name}\nMRN: ${P.mrn}\nSeen for follow-up.`;
const sha = (s) => crypto.createHash('sha256').update(s).digest('hex');
let upstream, tmp, schema, store, master;
const procs = [];
const ports = [];

function config(upPort) {
  return `version: 1
tenants:
  - {id: acme, name: Acme, jurisdictions: [US-HIPAA]}
  - {id: globex, name: Globex, jurisdictions: [US-HIPAA]}
users:
  - {id: dr-r, tenant: acme, roles: [clinician], api_key_sha256: ${sha(KEY)}}
vendors:
  - name: local
    kind: self-hosted
    api_base: http://127.0.0.1:${upPort}/v1
    inside_boundary: true
    region: us
    endpoints: [chat/completions]
    models: [local-llama, leak-canary]
features:
  - name: scribe
    purpose: treatment
    roles: [clinician]
    reidentify_answers: true
    phi: {NAME: tokenize, MRN: tokenize, DATE: tokenize}
    routes: [{vendor: local, models: ["*"]}]
breach:
  enabled: true
  response: { low: pass_alert, medium: redact, high: withhold, critical: withhold }
  containment: audit_only
  canaries: { per_tenant: 1, seed: ${CANARY_SEED} }
`;
}

async function serve(i, cfg, store, master) {
  const { proc, port } = startServe(
    BIN, ['--config', cfg, '--listen', '127.0.0.1:0', '--no-watch', '--store', store,
          '--audit-store', `sqlite://${path.join(tmp, `audit${i}.db`)}`],
    { ...process.env, PHIGATE_MASTER_KEY: master });
  procs.push(proc);
  return port;
}

before(async () => {
  if (!PG || !BIN) return;
  upstream = await startFakeUpstream();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phigate-replicas-'));
  const cfg = path.join(tmp, 'phigate.yaml');
  fs.writeFileSync(cfg, config(upstream.port));
  schema = 'gw_replicas_' + crypto.randomBytes(4).toString('hex');
  store = PG + (PG.includes('?') ? '&' : '?') + 'phigate_schema=' + schema;
  master = crypto.randomBytes(32).toString('hex');
  ports.push(await serve(0, cfg, store, master));
  ports.push(await serve(1, cfg, store, master));
});

after(async () => {
  for (const p of procs) if (p.exitCode === null) { p.kill('SIGTERM'); await new Promise((r) => p.on('exit', r)); }
  if (upstream) await upstream.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  // The replicas' schema, so a long-lived server does not keep one per run.
  if (schema) {
    execFileSync('psql', [PG, '-qc', `SET client_min_messages = warning; DROP SCHEMA IF EXISTS ${schema} CASCADE`]);
  }
});

test('a token minted by one replica is the one the other uses and re-identifies', { skip: !PG || !BIN }, async () => {
  const ask = (port) => new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: KEY, maxRetries: 0,
    defaultHeaders: { 'x-phigate-feature': 'scribe', 'x-phigate-conversation': 'conv-r1' } })
    .chat.completions.create({ model: 'local-llama', messages: [{ role: 'user', content: NOTE }] });
  const a = await ask(ports[0]);
  const sentA = JSON.parse(upstream.received.at(-1).body).messages[0].content;
  const b = await ask(ports[1]);
  const sentB = JSON.parse(upstream.received.at(-1).body).messages[0].content;
  assert.match(sentA, /\[NAME_[0-9A-Z]+\]/);
  assert.equal(sentA, sentB);
  assert.equal(a.choices[0].message.content, 'Summary: ' + NOTE);
  assert.equal(b.choices[0].message.content, 'Summary: ' + NOTE);
});

// No `incidents:` URL in the config: with a PostgreSQL store the incidents go to
// the same database, so a leak caught by either replica is one incident in one
// sequence, and `phigate breach list` over that database shows both.
test('incidents recorded by both replicas share one store and one sequence', { skip: !PG || !BIN }, async () => {
  const canary = execFileSync(BIN, ['breach', 'canaries', '--tenant', 'globex', '--seed',
    String(CANARY_SEED), '--count', '1', '--json'], { encoding: 'utf8' })
    .split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((c) => c.category === 'MRN').value;
  upstream.setMode('leak-canary', { say: `Also on file: MRN ${canary}.` });
  const ids = [];
  for (const port of [ports[0], ports[1]]) {
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: KEY, maxRetries: 0,
      defaultHeaders: { 'x-phigate-feature': 'scribe', 'x-phigate-conversation': `leak-${port}` } });
    await assert.rejects(
      client.chat.completions.create({ model: 'leak-canary', messages: [{ role: 'user', content: 'Pt doing well.' }] }),
      (e) => {
        assert.equal(e.status, 502);
        const m = String(e.message).match(/incident (INC-\d{4}-\d{4,})/);
        assert.ok(m, `withheld with an incident id: ${e.message}`);
        ids.push(m[1]);
        return true;
      });
  }
  assert.notEqual(ids[0], ids[1], 'one sequence: the second replica takes the next number');
  const listed = execFileSync(BIN, ['breach', 'list', '--tenant', 'acme', '--store', store, '--all'],
    { encoding: 'utf8', env: { ...process.env, PHIGATE_MASTER_KEY: master } });
  for (const id of ids) assert.ok(listed.split('\n').some((l) => l.startsWith(id + ' ')), `${id} listed`);
  assert.ok(!listed.includes(canary), 'no PHI in the listing');
});
