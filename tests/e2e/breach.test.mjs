// End-to-end: the breach detectors in `phigate serve`'s answer path, with the
// real `openai` and `@anthropic-ai/sdk` clients and a fake upstream that
// misbehaves per model name (fake_upstream.mjs modes): it echoes another
// tenant's canary, replays an answer made for another tenant (a cache not
// scoped to the tenant), emits a stored patient's name or an earlier
// session's PHI. Each detector must withhold or redact the answer and record
// an incident visible with `phigate breach list`; clean synthetic traffic
// (`phigate synth`) must stay quiet. Synthetic PHI only.
//
// PHIGATE_E2E_CLEAN_N sets the number of clean requests (default 200); the
// measured false-alarm rate is printed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startFakeUpstream } from './fake_upstream.mjs';
import { startServe } from './serve.mjs';
import { synthNotes, synthPatients } from './patients.mjs';

const BIN = process.env.PHIGATE_BIN;
const KEYS = { acme: 'pg_breach_acme', globex: 'pg_breach_globex' };
// The gateway seals incident records under a key from the master key; the CLI
// reads them with the same PHIGATE_MASTER_KEY.
const MASTER_KEY = crypto.randomBytes(32).toString('hex');
const CLI_ENV = { ...process.env, PHIGATE_MASTER_KEY: MASTER_KEY };
const sha = (s) => crypto.createHash('sha256').update(s).digest('hex');
const CANARY_SEED = 4242;
const CLEAN_N = Number(process.env.PHIGATE_E2E_CLEAN_N || 200);

// Three synthetic patients written by the project's generator (patients.mjs).
const [P1, P2, P3] = synthPatients(BIN, 20261205, 3);
const note = (p) => `Patient: ${p.name}\nMRN: ${p.mrn}\nPhone: ${p.phone}\nSSN: ${p.ssn}\n` +
  'Seen for follow-up of hypertension; BP improved on lisinopril.';

const MODELS = ['local-llama', 'leak-canary', 'leak-patient', 'leak-training', 'leak-cache',
  'leak-stranger', 'leak-stream'];

let upstream, gw, port, tmp, incidentsUrl, auditUrl;

function config(upPort) {
  return `version: 1
tenants:
  - id: acme
    name: Acme (breach e2e)
    jurisdictions: [US-HIPAA]
  - id: globex
    name: Globex (breach e2e)
    jurisdictions: [US-HIPAA]
users:
  - id: dr-acme
    tenant: acme
    roles: [clinician]
    api_key_sha256: ${sha(KEYS.acme)}
  - id: dr-globex
    tenant: globex
    roles: [clinician]
    api_key_sha256: ${sha(KEYS.globex)}
vendors:
  - name: local
    kind: self-hosted
    api_base: http://127.0.0.1:${upPort}/v1
    inside_boundary: true
    region: us
    endpoints: [chat/completions]
    models: [${MODELS.join(', ')}]
  - name: anthropic
    kind: self-hosted
    api_base: http://127.0.0.1:${upPort}/v1
    inside_boundary: true
    region: us
    endpoints: [messages]
    models: [claude-sonnet-4-5, claude-leak-canary]
features:
  - name: scribe
    purpose: treatment
    roles: [clinician]
    reidentify_answers: true
    on_missing_baa: tokenize
    phi:
      NAME: tokenize
      DATE: tokenize
      MRN: tokenize
      SSN: tokenize
      PHONE: tokenize
      EMAIL: tokenize
    routes:
      - vendor: local
        models: ["*"]
      - vendor: anthropic
        models: ["*"]
gateway:
  upstreams:
    - vendor: anthropic
      kind: anthropic
      base_url: http://127.0.0.1:${upPort}/v1
breach:
  enabled: true
  incidents: ${incidentsUrl}
  response: { low: pass_alert, medium: redact, high: withhold, critical: withhold }
  # One gateway sees every detector in turn here, so containment is recorded and
  # audited only; executed containment (purge, suspend, rotate) is tested in
  # tests/integration/breach_gateway_test.cc.
  containment: audit_only
  canaries: { per_tenant: 1, seed: ${CANARY_SEED} }
`;
}

before(async () => {
  assert.ok(BIN && fs.existsSync(BIN), 'set PHIGATE_BIN to the phigate binary');
  upstream = await startFakeUpstream();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phigate-breach-e2e-'));
  incidentsUrl = `sqlite://${path.join(tmp, 'incidents.db')}`;
  auditUrl = `sqlite://${path.join(tmp, 'vault-audit.db')}`;
  const cfg = path.join(tmp, 'phigate.yaml');
  fs.writeFileSync(cfg, config(upstream.port));
  let listening;
  ({ proc: gw, port: listening } = startServe(
    BIN, ['--config', cfg, '--listen', '127.0.0.1:0', '--store',
          `sqlite://${path.join(tmp, 'vault.db')}`, '--no-watch'], CLI_ENV));
  port = await listening;
});

after(async () => {
  if (gw && gw.exitCode === null) {
    gw.kill('SIGTERM');
    await new Promise((r) => gw.on('exit', r));
  }
  if (upstream) await upstream.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function openai(key, conversation) {
  return new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: key, maxRetries: 0,
    defaultHeaders: { 'x-phigate-feature': 'scribe', 'x-phigate-conversation': conversation } });
}
function anthropic(key, conversation) {
  return new Anthropic({ baseURL: `http://127.0.0.1:${port}`, apiKey: key, maxRetries: 0,
    defaultHeaders: { 'x-phigate-feature': 'scribe', 'x-phigate-conversation': conversation } });
}
const chat = (client, model, content) =>
  client.chat.completions.create({ model, messages: [{ role: 'user', content }] });

// `phigate breach list` for a tenant: one line per incident.
function breachList(tenant) {
  return execFileSync(BIN, ['breach', 'list', '--tenant', tenant, '--store', incidentsUrl, '--all'],
    { encoding: 'utf8', env: CLI_ENV });
}
function incidentLine(tenant, id) {
  const line = breachList(tenant).split('\n').find((l) => l.startsWith(id + ' '));
  assert.ok(line, `incident ${id} is listed for ${tenant}`);
  return line;
}
// The 502 of a withheld answer names the incident.
async function withheld(promise) {
  let id;
  await assert.rejects(promise, (e) => {
    assert.equal(e.status, 502);
    const m = String(e.message).match(/withheld by leak detection \(incident (INC-\d{4}-\d{4,})\)/);
    assert.ok(m, `withheld with an incident id: ${e.message}`);
    id = m[1];
    return true;
  });
  return id;
}
function assertNoPhiIn(text, values) {
  for (const v of values) assert.ok(!text.includes(v), 'no PHI in incident listings');
}

test('clean synthetic traffic stays quiet (false-alarm rate through the gateway)', async () => {
  const notes = synthNotes(BIN, ['--seed', '20261130', '--notes', String(CLEAN_N), '--style', 'mix'])
    .map((n) => n.text);
  assert.equal(notes.length, CLEAN_N);
  const before = breachList('acme');
  let flagged = 0, refused = 0;
  for (let i = 0; i < notes.length; i++) {
    // The fake upstream echoes each note (de-identified), in its own conversation.
    const { data, response } = await chat(openai(KEYS.acme, `clean-${i}`), 'local-llama', notes[i])
      .withResponse().catch((e) => ({ data: null, response: null, error: e }));
    if (!response) { refused++; continue; }
    if (response.headers.get('x-phigate-incident')) flagged++;
    assert.ok(data.choices[0].message.content.startsWith('Summary: '));
  }
  const rate = (100 * (flagged + refused)) / notes.length;
  console.log(`# breach e2e: clean answers ${notes.length}, flagged ${flagged}, withheld ${refused}, ` +
              `false-alarm rate ${rate.toFixed(2)}%`);
  assert.equal(refused, 0, 'no clean answer withheld');
  assert.equal(flagged, 0, 'no clean answer flagged');
  assert.equal(breachList('acme'), before, 'no incident recorded for clean traffic');
});

test('canary: another tenant\'s canary in an answer is withheld (critical)', async () => {
  const canaries = execFileSync(BIN, ['breach', 'canaries', '--tenant', 'globex', '--seed',
    String(CANARY_SEED), '--count', '1', '--json'], { encoding: 'utf8' })
    .split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const name = canaries.find((c) => c.category === 'NAME').value;
  const mrn = canaries.find((c) => c.category === 'MRN').value;
  upstream.setMode('leak-canary', { say: `Also on file: ${name} (${mrn}).` });
  const id = await withheld(chat(openai(KEYS.acme, 'canary-1'), 'leak-canary', 'Pt doing well.'));
  const line = incidentLine('acme', id);
  assert.match(line, /critical/);
  assert.match(line, /canary/);
  assertNoPhiIn(breachList('acme'), [name, mrn]);

  // The same through the Anthropic SDK, streamed: the stream is cut and, as the gateway holds
  // back the last 64 bytes of text until they are scanned, nothing of the canary arrives.
  upstream.setMode('claude-leak-canary', { say: `Also on file: ${name} (${mrn}). More text follows.` });
  const stream = await anthropic(KEYS.acme, 'canary-2').messages.create({
    model: 'claude-leak-canary', max_tokens: 100, stream: true,
    messages: [{ role: 'user', content: 'Pt doing well.' }] });
  let text = '', failed = false;
  try {
    for await (const ev of stream) {
      if (ev.type === 'content_block_delta') text += ev.delta.text;
    }
  } catch (e) {
    failed = /withheld by leak detection/.test(String(e.message));
  }
  assert.ok(failed, 'the stream ends with a leak error');
  assert.ok(!text.includes(mrn), 'the canary MRN never reaches the client');
  assert.ok(!text.includes(name.slice(0, 4)), 'nor the first bytes of its name (held back)');
  assert.ok(!text.includes('More text follows'));
});

test('prompt injection / cross-patient: a stored patient\'s name this request did not send', async () => {
  // Conversation A sends patient P1 (tokenized upstream, stored in the vault).
  const a = await chat(openai(KEYS.acme, 'pi-a'), 'local-llama', note(P1));
  assert.ok(a.choices[0].message.content.includes(P1.mrn), 'acme gets its own answer');
  // Conversation B is about P2; the model answers with P1's identifiers.
  upstream.setMode('leak-patient', { say: `Patient: ${P1.name}\nMRN: ${P1.mrn}\nContinue the plan.` });
  const id = await withheld(chat(openai(KEYS.acme, 'pi-b'), 'leak-patient', note(P2)));
  const line = incidentLine('acme', id);
  assert.match(line, /high|critical/);
  assert.match(line, /prompt_injection_leak/);
  assert.match(line, /cross_patient/);
  assertNoPhiIn(breachList('acme'), [P1.name, P1.mrn]);
  const show = execFileSync(BIN, ['breach', 'show', id, '--tenant', 'acme', '--store', incidentsUrl],
    { encoding: 'utf8', env: CLI_ENV });
  assertNoPhiIn(show, [P1.name, P1.mrn, P2.name, P2.mrn]);
});

test('cross-tenant: another tenant\'s patient in an answer is critical', async () => {
  await chat(openai(KEYS.globex, 'ct-g'), 'local-llama', note(P3));
  upstream.setMode('leak-patient',
    { say: `Patient: ${P3.name}\nMRN: ${P3.mrn}\nSSN: ${P3.ssn}\nStable.` });
  const id = await withheld(chat(openai(KEYS.acme, 'ct-a'), 'leak-patient', 'Pt doing well.'));
  const line = incidentLine('acme', id);
  assert.match(line, /critical/);
  assert.match(line, /cross_tenant/);
});

test('training-data leak: an earlier session\'s PHI in a later session\'s answer', async () => {
  await chat(openai(KEYS.acme, 'td-1'), 'local-llama', note(P1));
  upstream.setMode('leak-training', { say: `Example record: phone ${P1.phone}, MRN ${P1.mrn}.` });
  const id = await withheld(chat(openai(KEYS.acme, 'td-2'), 'leak-training', 'Draft a template note.'));
  assert.match(incidentLine('acme', id), /training_data_leak/);
});

test('cache leak: an answer made for another tenant is replayed (cache not scoped to the tenant)', async () => {
  upstream.setMode('leak-cache', { replay: true });
  // Globex's answer (holding globex's tokens) is cached by the upstream...
  const g = await chat(openai(KEYS.globex, 'cache-g'), 'leak-cache', note(P3));
  assert.ok(g.choices[0].message.content.includes(P3.mrn), 'globex gets its own answer');
  // ...and served to acme.
  const id = await withheld(chat(openai(KEYS.acme, 'cache-a'), 'leak-cache', note(P2)));
  const line = incidentLine('acme', id);
  assert.match(line, /cache_leak/);
  assert.match(line, /critical/);
});

test('a name nobody sent (medium) is redacted, the answer delivered', async () => {
  upstream.setMode('leak-stranger', { say: 'Please refer to Dr. Wilhelmina Oakenshaw for follow-up.' });
  const { data, response } = await chat(openai(KEYS.acme, 'red-1'), 'leak-stranger', 'Pt doing well.')
    .withResponse();
  const text = data.choices[0].message.content;
  assert.ok(!text.includes('Oakenshaw'), `redacted: ${text}`);
  assert.match(text, /\[REDACTED\]/);
  assert.equal(response.headers.get('x-phigate-leak'), 'redacted');
  const id = response.headers.get('x-phigate-incident');
  assert.match(incidentLine('acme', id), /medium/);
});

test('fail-open evidence: egress without a matching audit event', async () => {
  const { response } = await chat(openai(KEYS.acme, 'fo-1'), 'local-llama', 'Pt doing well.')
    .withResponse();
  const rid = response.headers.get('x-request-id');
  assert.ok(rid);
  const egress = path.join(tmp, 'egress-ok.txt');
  fs.writeFileSync(egress, rid + '\n');
  const args = ['breach', 'failopen', '--tenant', 'acme', '--audit', auditUrl,
    '--store', incidentsUrl, '--egress', egress];
  const ok = spawnSync(BIN, args, { encoding: 'utf8', env: CLI_ENV });
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /no fail-open evidence/);
  // An egress the audit trail never saw (e.g. a request that bypassed the gateway).
  fs.writeFileSync(egress, `${rid}\nreq_00000000000000000000000000000bad\n`);
  const bad = spawnSync(BIN, args, { encoding: 'utf8', env: CLI_ENV });
  assert.equal(bad.status, 2, bad.stdout + bad.stderr);
  const m = bad.stdout.match(/(INC-\d{4}-\d{4,}) recorded/);
  assert.ok(m, bad.stdout);
  assert.match(incidentLine('acme', m[1]), /fail_open/);
});
