// End-to-end: the real `openai` and `@anthropic-ai/sdk` clients against
// `phigate serve` (real policy, detect engine, vault on SQLite, audit log) and
// a fake upstream that records what it received. Synthetic PHI only.
//
// Run: PHIGATE_BIN=build/.../phigate node --test tests/e2e/   (ctest gateway_e2e does this)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI, { AzureOpenAI } from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startFakeUpstream } from './fake_upstream.mjs';
import { startServe } from './serve.mjs';
import { synthNotes, synthPatients } from './patients.mjs';

const BIN = process.env.PHIGATE_BIN;
const KEYS = { clinician: 'pg_e2e_clinician', analyst: 'pg_e2e_analyst', other: 'pg_e2e_globex' };
const sha = (s) => crypto.createHash('sha256').update(s).digest('hex');
const MASTER_KEY = crypto.randomBytes(32).toString('hex');
// Fake AWS credentials of the Bedrock routes (the fake upstream checks the
// signature with them); `claude-bedrock-badkey`'s route signs with a wrong secret.
const AWS = { keyId: 'AKIAE2EEXAMPLE0000000', secret: 'e2eSecretKeyEXAMPLE/K7MDENG+bPxRfiCYzzzz',
              wrongSecret: 'e2eWrongSecretEXAMPLE/K7MDENG+bPxRfiCYzz', token: 'e2e-session-token' };
const BEDROCK = 'claude-bedrock';
const BEDROCK_ID = 'anthropic.claude-3-5-haiku-20241022-v1:0';

// A synthetic patient written by the project's generator (patients.mjs).
export const PHI = synthPatients(BIN, 20261204, 1)[0];
export const NOTE =
  `Patient: ${PHI.name}\nMRN: ${PHI.mrn}\nDOB: ${PHI.dob}\nPhone: ${PHI.phone}\n` +
  `SSN: ${PHI.ssn}\nEmail: ${PHI.email}\nSeen for follow-up of hypertension; BP improved on lisinopril.`;

let upstream, gw, port, tmp;

function config(upPort) {
  return `version: 1
tenants:
  - id: acme
    name: Acme (e2e)
    jurisdictions: [US-HIPAA]
  - id: globex
    name: Globex (e2e)
    jurisdictions: [US-HIPAA]
users:
  - id: dr-e2e
    tenant: acme
    roles: [clinician]
    api_key_sha256: ${sha(KEYS.clinician)}
  - id: analyst-e2e
    tenant: acme
    roles: [analyst]
    api_key_sha256: ${sha(KEYS.analyst)}
  - id: dr-globex
    tenant: globex
    roles: [clinician]
    api_key_sha256: ${sha(KEYS.other)}
vendors:
  - name: local
    kind: self-hosted
    api_base: http://127.0.0.1:${upPort}/v1
    inside_boundary: true
    region: us
    endpoints: [chat/completions, responses]
    models: [local-llama]
  - name: anthropic
    kind: self-hosted
    api_base: http://127.0.0.1:${upPort}/v1
    inside_boundary: true
    region: us
    endpoints: [messages]
    models: [claude-sonnet-4-5]
  - name: azure
    kind: azure-openai
    api_base: http://127.0.0.1:${upPort}
    region: us
    endpoints: [chat/completions, responses]
    models: [gpt-4o-e2e]
    baa:
      id: BAA-E2E-AZURE
      signed: 2026-01-01
      expires: 2099-12-31
      products: [api]
      endpoints: [chat/completions, responses]
      models: [gpt-4o-e2e]
  - name: bedrock
    kind: bedrock
    api_base: http://127.0.0.1:${upPort}
    region: us-east-1
    endpoints: [converse]
    models: [${BEDROCK}]
    baa:
      id: BAA-E2E-AWS
      signed: 2026-01-01
      expires: 2099-12-31
      products: [bedrock]
      endpoints: [converse]
      models: [${BEDROCK}]
      regions: [us-east-1]
  - name: bedrock-badkey
    kind: bedrock
    api_base: http://127.0.0.1:${upPort}
    region: us-east-1
    endpoints: [converse]
    models: [claude-bedrock-badkey]
    baa:
      id: BAA-E2E-AWS-2
      signed: 2026-01-01
      expires: 2099-12-31
      products: [bedrock]
      endpoints: [converse]
      models: [claude-bedrock-badkey]
features:
  - name: scribe
    purpose: treatment
    roles: [clinician, analyst]
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
      - vendor: azure
        models: ["*"]
      - vendor: bedrock
        models: ["*"]
      - vendor: bedrock-badkey
        models: ["*"]
  - name: scribe-all
    purpose: treatment
    roles: [clinician]
    reidentify_answers: true
    on_missing_baa: tokenize
    phi: {NAME: tokenize, STREET_ADDRESS: tokenize, CITY: tokenize, ZIP: tokenize, FACILITY: tokenize, LOCATION: tokenize, DATE: tokenize, AGE: tokenize, PHONE: tokenize, FAX: tokenize, EMAIL: tokenize, SSN: tokenize, MRN: tokenize, HEALTH_PLAN: tokenize, ACCOUNT: tokenize, LICENSE: tokenize, VEHICLE: tokenize, DEVICE: tokenize, URL: tokenize, IP: tokenize, BIOMETRIC: tokenize, PHOTO: tokenize, ID: tokenize}
    routes:
      - vendor: local
        models: ["*"]
gateway:
  upstreams:
    - vendor: anthropic
      kind: anthropic
      base_url: http://127.0.0.1:${upPort}/v1
    - vendor: azure
      kind: azure-openai
      base_url: http://127.0.0.1:${upPort}
      deployments: {gpt-4o-e2e: e2e-deployment}
      api_version: 2024-10-21
    - vendor: bedrock
      kind: bedrock
      base_url: http://127.0.0.1:${upPort}
      region: us-east-1
      model_ids: {${BEDROCK}: "${BEDROCK_ID}"}
      aws_access_key_id_env: PHIGATE_E2E_AWS_KEY_ID
      aws_secret_access_key_env: PHIGATE_E2E_AWS_SECRET
      aws_session_token_env: PHIGATE_E2E_AWS_TOKEN
    - vendor: bedrock-badkey
      kind: bedrock
      base_url: http://127.0.0.1:${upPort}
      region: us-east-1
      aws_access_key_id_env: PHIGATE_E2E_AWS_KEY_ID
      aws_secret_access_key_env: PHIGATE_E2E_AWS_WRONG_SECRET
      aws_session_token_env: PHIGATE_E2E_AWS_TOKEN
`;
}

// `phigate serve` on the test's vault with `masterKey`; resolves once it listens.
async function startGateway(cfg, masterKey) {
  const { proc, port: listening } = startServe(
    BIN, ['--config', cfg, '--listen', '127.0.0.1:0', '--store',
          `sqlite://${path.join(tmp, 'vault.db')}`, '--no-watch'],
    { ...process.env, PHIGATE_MASTER_KEY: masterKey, PHIGATE_E2E_AWS_KEY_ID: AWS.keyId,
      PHIGATE_E2E_AWS_SECRET: AWS.secret, PHIGATE_E2E_AWS_WRONG_SECRET: AWS.wrongSecret,
      PHIGATE_E2E_AWS_TOKEN: AWS.token });
  return { proc, port: await listening };
}

before(async () => {
  assert.ok(BIN && fs.existsSync(BIN), 'set PHIGATE_BIN to the phigate binary');
  upstream = await startFakeUpstream(0, '127.0.0.1', {
    aws: { region: 'us-east-1', keys: { [AWS.keyId]: { secret: AWS.secret, sessionToken: AWS.token } } },
  });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phigate-e2e-'));
  const cfg = path.join(tmp, 'phigate.yaml');
  fs.writeFileSync(cfg, config(upstream.port));
  ({ proc: gw, port } = await startGateway(cfg, MASTER_KEY));
});

after(async () => {
  if (gw && gw.exitCode === null) {
    gw.kill('SIGTERM');
    await new Promise((r) => gw.on('exit', r));
  }
  if (upstream) await upstream.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function openai(key = KEYS.clinician, feature = 'scribe') {
  return new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: key, maxRetries: 0,
                      defaultHeaders: { 'x-phigate-feature': feature } });
}
function anthropic(key = KEYS.clinician) {
  return new Anthropic({ baseURL: `http://127.0.0.1:${port}`, apiKey: key, maxRetries: 0,
                         defaultHeaders: { 'x-phigate-feature': 'scribe' } });
}

function assertUpstreamSawNoPhi() {
  const all = upstream.allBytes();
  assert.ok(upstream.received.length > 0, 'the upstream was called');
  for (const [kind, value] of Object.entries(PHI)) {
    assert.ok(!all.includes(value), `the upstream received the ${kind}`);
  }
}

test('openai chat, not streamed: upstream sees tokens, clinician gets real values', async () => {
  const r = await openai().chat.completions.create({
    model: 'local-llama', messages: [{ role: 'system', content: 'You are a scribe.' },
                                     { role: 'user', content: NOTE }] });
  assert.equal(r.choices[0].message.content, 'Summary: ' + NOTE);
  assertUpstreamSawNoPhi();
  const sent = JSON.parse(upstream.received.at(-1).body);
  assert.match(sent.messages[1].content, /\[NAME_[0-9A-Z]+\]/);
  assert.match(sent.user, /^pgt_[0-9a-f]+$/);
});

test('openai chat, streamed: re-identified chunk by chunk', async () => {
  const stream = await openai().chat.completions.create({
    model: 'local-llama', stream: true, messages: [{ role: 'user', content: NOTE }] });
  let text = '';
  let chunks = 0;
  for await (const c of stream) { text += c.choices[0]?.delta?.content ?? ''; chunks++; }
  assert.equal(text, 'Summary: ' + NOTE);
  assert.ok(chunks > 10, 'streamed as many chunks');
  assertUpstreamSawNoPhi();
});

// An application written for Azure OpenAI keeps its AzureOpenAI client and
// changes only the endpoint: the client sends to
// /openai/deployments/{deployment}/chat/completions?api-version=... with the
// key in the api-key header, and the deployment names the model.
test('AzureOpenAI client: deployment paths and api-key, whole and streamed', async () => {
  const az = (key = KEYS.clinician) => new AzureOpenAI({
    endpoint: `http://127.0.0.1:${port}`, apiKey: key, apiVersion: '2024-10-21',
    deployment: 'local-llama', maxRetries: 0, defaultHeaders: { 'x-phigate-feature': 'scribe' } });
  const messages = [{ role: 'user', content: NOTE }];
  const r = await az().chat.completions.create({ model: 'ignored-by-azure', messages });
  assert.equal(r.choices[0].message.content, 'Summary: ' + NOTE);
  const sent = upstream.received.at(-1);
  assert.equal(new URL(sent.url, 'http://x').pathname, '/v1/chat/completions');
  assert.equal(JSON.parse(sent.body).model, 'local-llama');
  const stream = await az().chat.completions.create({ model: 'local-llama', stream: true, messages });
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
  assert.equal(text, 'Summary: ' + NOTE);
  assertUpstreamSawNoPhi();
  const analyst = await az(KEYS.analyst).chat.completions.create({ model: 'x', messages });
  for (const value of Object.values(PHI)) assert.ok(!analyst.choices[0].message.content.includes(value));
  assert.match(analyst.choices[0].message.content, /\[NAME_[0-9A-Z]+\]/);
  await assert.rejects(az('pg_e2e_wrong').chat.completions.create({ model: 'x', messages }),
                       (e) => e.status === 401);
  // Its calls outside a deployment: /openai/responses, /openai/models.
  const resp = await az().responses.create({ model: 'local-llama', input: NOTE });
  assert.equal(resp.output_text, 'Summary: ' + NOTE);
  assert.equal(new URL(upstream.received.at(-1).url, 'http://x').pathname, '/v1/responses');
  const ids = [];
  for await (const m of az().models.list()) ids.push(m.id);
  assert.ok(ids.includes('local-llama'), ids.join(','));
  assertUpstreamSawNoPhi();
});

test('anthropic messages, not streamed and streamed', async () => {
  const client = anthropic();
  const m = await client.messages.create({
    model: 'claude-sonnet-4-5', max_tokens: 200, system: `Chart of ${PHI.name}.`,
    messages: [{ role: 'user', content: NOTE }] });
  assert.equal(m.content[0].text, 'Summary: ' + NOTE);
  const stream = client.messages.stream({
    model: 'claude-sonnet-4-5', max_tokens: 200, messages: [{ role: 'user', content: NOTE }] });
  let text = '';
  stream.on('text', (t) => { text += t; });
  const final = await stream.finalMessage();
  assert.equal(text, 'Summary: ' + NOTE);
  assert.equal(final.content[0].text, 'Summary: ' + NOTE);
  assertUpstreamSawNoPhi();
  const sent = JSON.parse(upstream.received.at(-1).body);
  assert.match(sent.metadata.user_id, /^pgt_/);
});

test('anthropic messages.countTokens: counted on the de-identified text', async () => {
  const calls = upstream.received.length;
  const r = await anthropic().messages.countTokens({
    model: 'claude-sonnet-4-5', system: `Chart of ${PHI.name}.`,
    messages: [{ role: 'user', content: NOTE }] });
  assert.equal(upstream.received.length, calls + 1);
  assert.equal(new URL(upstream.received.at(-1).url, 'http://x').pathname,
               '/v1/messages/count_tokens');
  assertUpstreamSawNoPhi();
  const sent = JSON.parse(upstream.received.at(-1).body);
  assert.equal(sent.metadata, undefined);
  assert.equal(r.input_tokens, sent.messages[0].content.length);
  assert.notEqual(r.input_tokens, NOTE.length);  // the vendor counted tokens, not the PHI
});

test('a caller without the permission gets tokens, never PHI', async () => {
  const r = await openai(KEYS.analyst).chat.completions.create({
    model: 'local-llama', messages: [{ role: 'user', content: NOTE }] });
  const text = r.choices[0].message.content;
  assert.match(text, /\[NAME_[0-9A-Z]+\]/);
  for (const [kind, value] of Object.entries(PHI)) assert.ok(!text.includes(value), kind);
  const stream = await openai(KEYS.analyst).chat.completions.create({
    model: 'local-llama', stream: true, messages: [{ role: 'user', content: NOTE }] });
  let s = '';
  for await (const c of stream) s += c.choices[0]?.delta?.content ?? '';
  for (const [kind, value] of Object.entries(PHI)) assert.ok(!s.includes(value), kind);
});

// The Responses API (POST /v1/responses), on the self-hosted vendor and on the
// Azure one, whose policy entries name the endpoint. Its text lives elsewhere
// than chat's: the `instructions`, `input` as a string or as items with string
// content or input_text parts; answers are output items, streamed as typed events.
const INSTRUCTIONS = `You are the scribe for the chart of ${PHI.name}, born ${PHI.dob}.`;
const RESPONSES_INPUT = [
  { role: 'user', content: `Earlier visit: ${PHI.name}, MRN ${PHI.mrn}, email ${PHI.email}.` },
  { role: 'assistant', content: 'Noted.' },
  { type: 'message', role: 'user', content: [{ type: 'input_text', text: NOTE }] },
];
const SAVE_NOTE = [{ type: 'function', name: 'save_note', description: 'Saves the visit note.',
                     strict: false, parameters: { type: 'object', required: ['note'],
                                                  properties: { note: { type: 'string' } } } }];

// The text of a Responses object's message items (the SDK adds `output_text`
// to what responses.create returns, not to a stream's responses).
function outputText(resp) {
  return resp.output.filter((i) => i.type === 'message')
    .flatMap((i) => i.content).filter((c) => c.type === 'output_text').map((c) => c.text).join('');
}

test('openai responses, not streamed: upstream sees tokens, clinician gets real values', async () => {
  const calls = upstream.received.length;
  const r = await openai().responses.create({
    model: 'local-llama', instructions: INSTRUCTIONS, input: RESPONSES_INPUT });
  assert.equal(r.output_text, 'Summary: ' + NOTE);
  assert.equal(upstream.received.length, calls + 1);
  assertUpstreamSawNoPhi();
  assert.equal(new URL(upstream.received.at(-1).url, 'http://x').pathname, '/v1/responses');
  const sent = JSON.parse(upstream.received.at(-1).body);
  assert.match(sent.user, /^pgt_[0-9a-f]+$/);
  assert.match(sent.instructions, /\[NAME_[0-9A-Z]+\]/);
  assert.match(sent.input[0].content, /\[MRN_[0-9A-Z]+\]/);
  assert.match(sent.input[2].content[0].text, /\[NAME_[0-9A-Z]+\]/);
});

test('openai responses, streamed: re-identified event by event', async () => {
  const stream = await openai().responses.create({
    model: 'local-llama', stream: true, instructions: INSTRUCTIONS, input: NOTE });
  let text = '';
  let deltas = 0;
  const seqs = [];
  const done = {};  // the final text each closing event carries
  for await (const e of stream) {
    seqs.push(e.sequence_number);
    if (e.type === 'response.output_text.delta') { text += e.delta; deltas++; }
    if (e.type === 'response.output_text.done') done.text = e.text;
    if (e.type === 'response.content_part.done') done.part = e.part.text;
    if (e.type === 'response.output_item.done') done.item = outputText({ output: [e.item] });
    if (e.type === 'response.completed') done.completed = outputText(e.response);
  }
  assert.equal(text, 'Summary: ' + NOTE);
  assert.ok(deltas > 10, 'streamed as many deltas');
  // Held-back text sent as deltas of its own must not break the numbering a
  // client resumes a stream by (starting_after).
  assert.ok(seqs.every((n, i) => Number.isInteger(n) && (i === 0 || n > seqs[i - 1])),
            `sequence numbers strictly increase: ${seqs}`);
  // A client that reads the closing events instead of the deltas gets the real values too.
  assert.deepEqual(done, { text: 'Summary: ' + NOTE, part: 'Summary: ' + NOTE,
                           item: 'Summary: ' + NOTE, completed: 'Summary: ' + NOTE });
  assertUpstreamSawNoPhi();
  const sent = JSON.parse(upstream.received.at(-1).body);
  assert.equal(sent.stream, true);
  assert.match(sent.input, /\[NAME_[0-9A-Z]+\]/);
  // The SDK's stream helper builds its final response from the same events.
  const helper = openai().responses.stream({ model: 'local-llama', input: RESPONSES_INPUT });
  let helped = '';
  helper.on('response.output_text.delta', (e) => { helped += e.delta; });
  const final = await helper.finalResponse();
  assert.equal(helped, 'Summary: ' + NOTE);
  assert.equal(outputText(final), 'Summary: ' + NOTE);
  assertUpstreamSawNoPhi();
});

test('openai responses: function call arguments come back with real values', async () => {
  // The fake upstream answers a forced tool choice with save_note({note: <echo>}):
  // the arguments are JSON text holding tokens, written back JSON-escaped.
  const client = openai();
  const r = await client.responses.create({
    model: 'local-llama', instructions: INSTRUCTIONS, input: RESPONSES_INPUT, tools: SAVE_NOTE,
    tool_choice: 'required' });
  const call = r.output.find((i) => i.type === 'function_call');
  assert.equal(call?.name, 'save_note');
  assert.deepEqual(JSON.parse(call.arguments), { note: 'Summary: ' + NOTE });
  const sent = JSON.parse(upstream.received.at(-1).body);
  assert.equal(sent.tools[0].name, 'save_note');
  const stream = await client.responses.create({
    model: 'local-llama', stream: true, input: NOTE, tools: SAVE_NOTE,
    tool_choice: { type: 'function', name: 'save_note' } });
  let args = '';
  let deltas = 0;
  const done = {};
  for await (const e of stream) {
    if (e.type === 'response.function_call_arguments.delta') { args += e.delta; deltas++; }
    if (e.type === 'response.function_call_arguments.done') done.args = e.arguments;
    if (e.type === 'response.output_item.done') done.item = e.item.arguments;
    if (e.type === 'response.completed') done.completed = e.response.output[0].arguments;
  }
  assert.ok(deltas > 10, 'streamed as many deltas');
  const want = { note: 'Summary: ' + NOTE };
  assert.deepEqual(JSON.parse(args), want);
  assert.deepEqual(Object.keys(done), ['args', 'item', 'completed'], 'every closing event came');
  for (const [event, a] of Object.entries(done)) assert.deepEqual(JSON.parse(a), want, event);
  assertUpstreamSawNoPhi();
});

test('openai responses: a caller without the permission gets tokens, never PHI', async () => {
  const client = openai(KEYS.analyst);
  const noPhi = (what, s) => {
    for (const [kind, value] of Object.entries(PHI)) {
      assert.ok(!s.includes(value), `${what}: ${kind}`);
    }
  };
  const r = await client.responses.create({
    model: 'local-llama', instructions: INSTRUCTIONS, input: RESPONSES_INPUT });
  assert.match(r.output_text, /\[NAME_[0-9A-Z]+\]/);
  noPhi('answer', JSON.stringify(r));
  const stream = await client.responses.create({
    model: 'local-llama', stream: true, instructions: INSTRUCTIONS, input: RESPONSES_INPUT });
  let text = '';
  const events = [];
  for await (const e of stream) {
    events.push(e);
    if (e.type === 'response.output_text.delta') text += e.delta;
  }
  assert.match(text, /\[NAME_[0-9A-Z]+\]/);
  noPhi('stream', JSON.stringify(events));
  const c = await client.responses.create({
    model: 'local-llama', input: NOTE, tools: SAVE_NOTE, tool_choice: 'required' });
  const call = c.output.find((i) => i.type === 'function_call');
  assert.match(JSON.parse(call.arguments).note, /\[NAME_[0-9A-Z]+\]/);
  noPhi('function call', JSON.stringify(c));
  assertUpstreamSawNoPhi();
});

test('openai responses on Azure OpenAI: its v1 surface, the deployment as model', async () => {
  // Azure serves the Responses API at {resource}/openai/v1/responses only, with
  // the deployment's name as the model (gateway.upstreams' `deployments`).
  const r = await openai().responses.create({
    model: 'gpt-4o-e2e', instructions: INSTRUCTIONS, input: RESPONSES_INPUT });
  assert.equal(r.output_text, 'Summary: ' + NOTE);
  const got = upstream.received.at(-1);
  assert.equal(new URL(got.url, 'http://x').pathname, '/openai/v1/responses');
  assert.equal(JSON.parse(got.body).model, 'e2e-deployment');
  const stream = await openai().responses.create({
    model: 'gpt-4o-e2e', stream: true, input: RESPONSES_INPUT });
  let text = '';
  for await (const e of stream) if (e.type === 'response.output_text.delta') text += e.delta;
  assert.equal(text, 'Summary: ' + NOTE);
  assert.equal(new URL(upstream.received.at(-1).url, 'http://x').pathname, '/openai/v1/responses');
  assertUpstreamSawNoPhi();
});

test('openai responses: a malformed upstream event ends the stream with an error', async () => {
  // The fake's fourth delta has an output_index that is no integer ("0").
  upstream.setMode('local-llama', { malformed: true });
  try {
    const stream = await openai().responses.create({
      model: 'local-llama', stream: true, input: NOTE });
    let text = '';
    let completed = false;
    await assert.rejects((async () => {
      for await (const e of stream) {
        if (e.type === 'response.output_text.delta') text += e.delta;
        completed ||= e.type === 'response.completed';
      }
    })(), (e) => /malformed stream event/.test(String(e.message)) &&
                 !String(e.message).includes(PHI.name));
    assert.equal(text, 'Summary: ', 'the three deltas before the bad one, then the error');
    assert.ok(!completed);
  } finally {
    upstream.clearModes();
  }
});

test('openai responses: a stream cut before response.completed ends with an error', async () => {
  // A Responses stream has no [DONE]: without its terminal event the client
  // must not take what came for the whole answer.
  upstream.setMode('local-llama', { truncate: true });
  try {
    const stream = await openai().responses.create({
      model: 'local-llama', stream: true, input: NOTE });
    const types = [];
    await assert.rejects((async () => {
      for await (const e of stream) types.push(e.type);
    })(), (e) => /truncated/.test(String(e.message)) && !String(e.message).includes(PHI.name));
    assert.ok(types.includes('response.output_item.done') && !types.includes('response.completed'),
              types.join(' '));
  } finally {
    upstream.clearModes();
  }
});

test('openai responses: errors come back in the OpenAI format, PHI-free', async () => {
  await assert.rejects(openai('pg_wrong').responses.create({ model: 'local-llama', input: NOTE }),
                       (e) => e.status === 401 && e.error?.message !== undefined);
  await assert.rejects(openai().responses.create({ model: 'no-such-model', input: NOTE }),
                       (e) => e.status === 404 && !String(e.message).includes(PHI.name));
});

// GET /v1/models, as each SDK lists models: the models the feature's routes
// name, in each API's list format; nothing reaches the vendor.
test('models.list and models.retrieve in each SDK: the feature\'s models', async () => {
  const calls = upstream.received.length;
  const ids = [];
  for await (const m of openai().models.list()) ids.push(m.id);
  assert.deepEqual(ids, ['local-llama', 'claude-sonnet-4-5', 'gpt-4o-e2e', BEDROCK,
                        'claude-bedrock-badkey']);
  const aids = [];
  for await (const m of anthropic().models.list()) aids.push(m.id);
  assert.deepEqual(aids, ids);
  // models.retrieve: one of them, or a 404 the SDK raises as NotFoundError.
  const one = await openai().models.retrieve('gpt-4o-e2e');
  assert.equal(one.id, 'gpt-4o-e2e');
  assert.equal(one.object, 'model');
  const aone = await anthropic().models.retrieve(BEDROCK);
  assert.equal(aone.id, BEDROCK);
  assert.equal(aone.type, 'model');
  await assert.rejects(openai().models.retrieve('gpt-5-unlisted'), (e) => e.status === 404);
  await assert.rejects(anthropic().models.retrieve('gpt-5-unlisted'), (e) => e.status === 404);
  await assert.rejects(openai('pg_wrong').models.list(), (e) => e.status === 401);
  assert.equal(upstream.received.length, calls);
});

test('two tenants with identical prompts get different tokens', async () => {
  await openai(KEYS.clinician).chat.completions.create({
    model: 'local-llama', messages: [{ role: 'user', content: NOTE }] });
  const a = JSON.parse(upstream.received.at(-1).body);
  await openai(KEYS.other).chat.completions.create({
    model: 'local-llama', messages: [{ role: 'user', content: NOTE }] });
  const b = JSON.parse(upstream.received.at(-1).body);
  const tokens = (s) => new Set(s.match(/\[[A-Z_]+_[0-9A-Z]+\]/g));
  const ta = tokens(a.messages[0].content), tb = tokens(b.messages[0].content);
  assert.ok(ta.size > 0 && tb.size > 0);
  for (const t of ta) assert.ok(!tb.has(t), 'a token is shared across tenants');
  assert.notEqual(a.user, b.user);
});

// Whole generated notes of every style (issue 6: "checked against the generator's labels"):
// every labelled PHI value the engine finds in a note is tokenized before the upstream sees
// it — the gateway lets through nothing beyond what `phigate deid --engine rules` (the same
// engine, offline) misses — and the clinician gets every value back, streamed or not.
test('generated notes: the upstream sees no labelled value the engine finds; all come back', async () => {
  const N = Number(process.env.PHIGATE_E2E_NOTES_N || 60);
  const notes = synthNotes(BIN, ['--seed', '20261207', '--notes', String(N)]);
  const input = notes.map((n) => JSON.stringify({ id: n.id, text: n.text })).join('\n') + '\n';
  const offline = execFileSync(BIN, ['deid', '--jsonl', '--engine', 'rules'],
                               { input, encoding: 'utf8', maxBuffer: 64 << 20 })
    .split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.equal(offline.length, N);
  const through = (text, note) => note.spans.filter((s) => s.phi && text.includes(s.text));
  const client = openai(KEYS.clinician, 'scribe-all');
  let labelled = 0, missedOffline = 0, reachedUpstream = 0;
  for (let i = 0; i < N; i++) {
    const note = notes[i];
    assert.equal(offline[i].id, note.id);
    const calls = upstream.received.length;
    let answer;
    if (i % 4 === 3) {
      const stream = await client.chat.completions.create({
        model: 'local-llama', stream: true, messages: [{ role: 'user', content: note.text }] });
      answer = '';
      for await (const chunk of stream) answer += chunk.choices[0]?.delta?.content ?? '';
    } else {
      const r = await client.chat.completions.create({
        model: 'local-llama', messages: [{ role: 'user', content: note.text }] });
      answer = r.choices[0].message.content;
    }
    assert.equal(answer, 'Summary: ' + note.text, `note ${note.id} comes back whole`);
    assert.equal(upstream.received.length, calls + 1);
    // Tokens ([NAME_7Z2XG]) are taken out first: their letters are no value of the note.
    const sent = JSON.parse(upstream.received.at(-1).body).messages[0].content
      .replace(/\[[A-Z_]+_[0-9A-Z]+\]/g, '[T]');
    const missed = new Set(through(offline[i].text, note).map((s) => s.text));
    for (const s of through(sent, note)) {
      assert.ok(missed.has(s.text),
                `note ${note.id}: a ${s.category} value the engine finds offline reached the upstream`);
      reachedUpstream++;
    }
    labelled += note.spans.filter((s) => s.phi).length;
    missedOffline += missed.size;
  }
  console.log(`# e2e generated notes: ${N} notes, ${labelled} labelled PHI values, ` +
              `${reachedUpstream} reached the upstream (the engine's misses: ${missedOffline})`);
  assert.ok(labelled > 10 * N, 'the notes hold identifiers');
});

test('errors come back in each API format, PHI-free', async () => {
  await assert.rejects(openai('pg_wrong').chat.completions.create({
    model: 'local-llama', messages: [{ role: 'user', content: NOTE }] }), (e) => e.status === 401);
  await assert.rejects(anthropic('pg_wrong').messages.create({
    model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: NOTE }] }),
    (e) => e.status === 401 && !String(e.message).includes(PHI.name));
  await assert.rejects(openai().chat.completions.create({
    model: 'no-such-model', messages: [{ role: 'user', content: NOTE }] }),
    (e) => e.status === 404 && !String(e.message).includes(PHI.name));
});

test('a malformed upstream stream event ends the stream with an error each SDK raises', async () => {
  // The gateway refuses the event (an index that is no integer) and ends the
  // stream with an error event in the API's format; neither SDK hangs or
  // takes the rest for a normal end.
  upstream.setMode('local-llama', { malformed: true });
  upstream.setMode('claude-sonnet-4-5', { malformed: true });
  try {
    const stream = await openai().chat.completions.create({
      model: 'local-llama', stream: true, messages: [{ role: 'user', content: NOTE }] });
    let text = '';
    await assert.rejects((async () => {
      for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    })(), (e) => /malformed stream event/.test(String(e.message)) &&
                 !String(e.message).includes(PHI.name));
    assert.equal(text, 'Summary: ', 'the three events before the bad one, then the error');
    const s = anthropic().messages.stream({
      model: 'claude-sonnet-4-5', max_tokens: 200, messages: [{ role: 'user', content: NOTE }] });
    await assert.rejects(s.finalMessage(), (e) => /malformed stream event/.test(String(e.message)));
  } finally {
    upstream.clearModes();
  }
  // The gateway goes on serving.
  const r = await openai().chat.completions.create({
    model: 'local-llama', messages: [{ role: 'user', content: NOTE }] });
  assert.equal(r.choices[0].message.content, 'Summary: ' + NOTE);
});

// AWS Bedrock (kind: bedrock): an OpenAI chat or Anthropic messages request for
// `claude-bedrock` reaches the fake Bedrock as a SigV4-signed Converse request
// (ConverseStream when the client streams) at the model id's path; the answer
// (JSON, or the binary event stream cut at arbitrary bytes) comes back in the
// client's API, re-identified. The fake validates the Converse body as Bedrock
// does and verifies the signature with the route's credentials.
const BEDROCK_TOOL_SCHEMA = { type: 'object', required: ['note'],
                              properties: { note: { type: 'string' } } };
const OPENAI_TOOLS = [{ type: 'function', function: { name: 'save_note', description: 'Saves the visit note.',
                                                      parameters: BEDROCK_TOOL_SCHEMA } }];
const ANTHROPIC_TOOLS = [{ name: 'save_note', description: 'Saves the visit note.',
                           input_schema: BEDROCK_TOOL_SCHEMA }];
// What a tool answers in the follow-up turns: PHI the gateway must de-identify.
const TOOL_RESULT = `Saved the note of ${PHI.name} (MRN ${PHI.mrn}, phone ${PHI.phone}).`;
const TOKEN = /\[NAME_[0-9A-Z]+\]/;

// The one request Bedrock received since `calls`: at the model id's Converse or
// ConverseStream path, accepted by the fake's validation, its signature
// verified; its body, parsed.
function bedrockSent(calls, stream) {
  assert.equal(upstream.received.length, calls + 1, 'one request reached Bedrock');
  const got = upstream.received.at(-1);
  assert.equal(got.rejected, undefined, `Bedrock refused the request: ${got.rejected}\n${got.body}`);
  assert.equal(got.sigv4, 'verified', got.canonical);
  assert.equal(got.url, `/model/${encodeURIComponent(BEDROCK_ID)}/${stream ? 'converse-stream' : 'converse'}`);
  assert.match(got.headers.authorization,
               new RegExp(`^AWS4-HMAC-SHA256 Credential=${AWS.keyId}/\\d{8}/us-east-1/bedrock/aws4_request, `));
  return JSON.parse(got.body);
}

function noPhiIn(what, s) {
  for (const [kind, value] of Object.entries(PHI)) assert.ok(!s.includes(value), `${what}: the ${kind}`);
}

test('bedrock, openai SDK chat.completions, whole and streamed: Converse sees tokens, clinician gets real values', async () => {
  const client = openai();
  let calls = upstream.received.length;
  const r = await client.chat.completions.create({
    model: BEDROCK, max_tokens: 300, temperature: 0.2,
    messages: [{ role: 'system', content: `You are the scribe for ${PHI.name}.` },
               { role: 'user', content: NOTE }] });
  assert.equal(r.choices[0].message.content, 'Summary: ' + NOTE);
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.model, BEDROCK);
  assert.deepEqual(r.usage, { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 });
  let sent = bedrockSent(calls, false);
  assert.match(sent.system[0].text, TOKEN);
  assert.deepEqual(sent.messages.map((m) => m.role), ['user']);
  assert.match(sent.messages[0].content[0].text, TOKEN);
  assert.match(sent.messages[0].content[0].text, /\[MRN_[0-9A-Z]+\]/);
  assert.deepEqual(sent.inferenceConfig, { maxTokens: 300, temperature: 0.2 });
  // The tenant's opaque id (never the tenant's name) for Bedrock's invocation logs.
  assert.match(sent.requestMetadata.tenant, /^pgt_[0-9a-f]+$/);
  assertUpstreamSawNoPhi();

  calls = upstream.received.length;
  const stream = await client.chat.completions.create({
    model: BEDROCK, stream: true, stream_options: { include_usage: true },
    messages: [{ role: 'user', content: NOTE }] });
  let text = '', chunks = 0, finish, usage;
  for await (const c of stream) {
    text += c.choices[0]?.delta?.content ?? '';
    chunks++;
    if (c.choices[0]?.finish_reason) finish = c.choices[0].finish_reason;
    if (c.usage) usage = c.usage;
  }
  assert.equal(text, 'Summary: ' + NOTE);
  assert.ok(chunks > 10, `streamed as many chunks (${chunks})`);
  assert.equal(finish, 'stop');
  assert.deepEqual(usage, { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 });
  sent = bedrockSent(calls, true);
  assert.match(sent.messages[0].content[0].text, TOKEN);
  assertUpstreamSawNoPhi();
});

test('bedrock, anthropic SDK messages.create whole and streamed, messages.stream(): real values back', async () => {
  const client = anthropic();
  let calls = upstream.received.length;
  const m = await client.messages.create({
    model: BEDROCK, max_tokens: 300, system: `Chart of ${PHI.name}.`,
    messages: [{ role: 'user', content: NOTE }] });
  assert.equal(m.content.length, 1);
  assert.equal(m.content[0].text, 'Summary: ' + NOTE);
  assert.equal(m.stop_reason, 'end_turn');
  assert.equal(m.model, BEDROCK);
  assert.deepEqual(m.usage, { input_tokens: 5, output_tokens: 7 });
  let sent = bedrockSent(calls, false);
  assert.match(sent.system[0].text, TOKEN);
  assert.match(sent.messages[0].content[0].text, TOKEN);
  assert.equal(sent.inferenceConfig.maxTokens, 300);

  calls = upstream.received.length;
  const s = await client.messages.create({
    model: BEDROCK, max_tokens: 300, stream: true, messages: [{ role: 'user', content: NOTE }] });
  let text = '';
  const types = [];
  for await (const e of s) {
    types.push(e.type);
    if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
  }
  assert.equal(text, 'Summary: ' + NOTE);
  assert.equal(types[0], 'message_start');
  assert.deepEqual(types.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
  assert.ok(types.filter((t) => t === 'content_block_delta').length > 10, 'streamed as many deltas');
  bedrockSent(calls, true);

  calls = upstream.received.length;
  const helper = client.messages.stream({
    model: BEDROCK, max_tokens: 300, system: `Chart of ${PHI.name}.`,
    messages: [{ role: 'user', content: NOTE }] });
  let helped = '';
  helper.on('text', (t) => { helped += t; });
  const final = await helper.finalMessage();
  assert.equal(helped, 'Summary: ' + NOTE);
  assert.equal(final.content[0].text, 'Summary: ' + NOTE);
  assert.equal(final.stop_reason, 'end_turn');
  assert.equal(final.usage.output_tokens, 7);
  sent = bedrockSent(calls, true);
  assert.match(sent.system[0].text, TOKEN);
  assertUpstreamSawNoPhi();

  // messages.countTokens, through Bedrock's CountTokens: the fake counts the
  // characters of the de-identified last message it received.
  calls = upstream.received.length;
  const counted = await client.messages.countTokens({
    model: BEDROCK, system: `Chart of ${PHI.name}.`, messages: [{ role: 'user', content: NOTE }] });
  assert.equal(upstream.received.length, calls + 1);
  const got = upstream.received.at(-1);
  assert.equal(got.url, `/model/${encodeURIComponent(BEDROCK_ID)}/count-tokens`);
  assert.equal(got.sigv4, 'verified');
  assert.equal(got.rejected, undefined, got.rejected);
  const input = JSON.parse(got.body).input.converse;
  assert.match(input.messages[0].content[0].text, TOKEN);
  assert.equal(counted.input_tokens, input.messages[0].content[0].text.length);
  assertUpstreamSawNoPhi();
});

test('bedrock tool calls, openai SDK: arguments re-identified; the tool result reaches Bedrock de-identified', async () => {
  const client = openai();
  const want = { note: 'Summary: ' + NOTE };
  const messages = [{ role: 'user', content: NOTE }];
  let calls = upstream.received.length;
  const r = await client.chat.completions.create({ model: BEDROCK, messages, tools: OPENAI_TOOLS });
  const msg = r.choices[0].message;
  assert.equal(r.choices[0].finish_reason, 'tool_calls', 'an OpenAI client loops on tool_calls');
  assert.equal(msg.tool_calls?.length, 1, JSON.stringify(msg));
  const call = msg.tool_calls[0];
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'save_note');
  assert.deepEqual(JSON.parse(call.function.arguments), want);
  assert.equal(msg.content, 'Summary: ' + NOTE);
  let sent = bedrockSent(calls, false);
  assert.deepEqual(sent.toolConfig.tools, [{ toolSpec: {
    name: 'save_note', description: 'Saves the visit note.', inputSchema: { json: BEDROCK_TOOL_SCHEMA } } }]);

  // Streamed, the tool named: the call comes in pieces of JSON text holding tokens.
  calls = upstream.received.length;
  const stream = await client.chat.completions.create({
    model: BEDROCK, stream: true, messages, tools: OPENAI_TOOLS,
    tool_choice: { type: 'function', function: { name: 'save_note' } } });
  const streamed = [];
  let finish, argDeltas = 0;
  for await (const c of stream) {
    for (const tc of c.choices[0]?.delta?.tool_calls ?? []) {
      streamed[tc.index] ??= { id: '', name: '', args: '' };
      if (tc.id) streamed[tc.index].id = tc.id;
      if (tc.function?.name) streamed[tc.index].name = tc.function.name;
      if (tc.function?.arguments) { streamed[tc.index].args += tc.function.arguments; argDeltas++; }
    }
    if (c.choices[0]?.finish_reason) finish = c.choices[0].finish_reason;
  }
  assert.equal(streamed.length, 1);
  assert.equal(streamed[0].name, 'save_note');
  assert.ok(streamed[0].id !== '', 'the call has an id');
  assert.deepEqual(JSON.parse(streamed[0].args), want);
  assert.ok(argDeltas > 10, `the arguments streamed in pieces (${argDeltas})`);
  assert.equal(finish, 'tool_calls');
  sent = bedrockSent(calls, true);
  assert.deepEqual(sent.toolConfig.toolChoice, { tool: { name: 'save_note' } });

  // The next turn: the call (with the real values the client got) and the tool's result.
  calls = upstream.received.length;
  const next = await client.chat.completions.create({
    model: BEDROCK, tools: OPENAI_TOOLS,
    messages: [...messages, msg, { role: 'tool', tool_call_id: call.id, content: TOOL_RESULT }] });
  assert.equal(next.choices[0].message.content, 'Summary: ' + TOOL_RESULT);
  assert.equal(next.choices[0].finish_reason, 'stop');
  sent = bedrockSent(calls, false);
  assert.deepEqual(sent.messages.map((m) => m.role), ['user', 'assistant', 'user']);
  const use = sent.messages[1].content.find((b) => b.toolUse)?.toolUse;
  assert.equal(use?.toolUseId, call.id);
  assert.equal(use.name, 'save_note');
  assert.match(use.input.note, TOKEN);
  const result = sent.messages[2].content[0].toolResult;
  assert.equal(result?.toolUseId, call.id);
  assert.match(result.content[0].text, TOKEN);
  assert.match(result.content[0].text, /\[MRN_[0-9A-Z]+\]/);
  assert.match(result.content[0].text, /\[PHONE_[0-9A-Z]+\]/);
  assertUpstreamSawNoPhi();
});

test('bedrock tool calls, anthropic SDK: tool_use input re-identified; the tool_result reaches Bedrock de-identified', async () => {
  const client = anthropic();
  const want = { note: 'Summary: ' + NOTE };
  const first = { role: 'user', content: NOTE };
  let calls = upstream.received.length;
  const m = await client.messages.create({
    model: BEDROCK, max_tokens: 300, tools: ANTHROPIC_TOOLS, messages: [first] });
  assert.equal(m.stop_reason, 'tool_use');
  assert.deepEqual(m.content.map((b) => b.type), ['text', 'tool_use']);
  assert.equal(m.content[1].name, 'save_note');
  assert.deepEqual(m.content[1].input, want);
  let sent = bedrockSent(calls, false);
  assert.deepEqual(sent.toolConfig.tools[0].toolSpec.inputSchema, { json: BEDROCK_TOOL_SCHEMA });

  // Streamed (messages.stream), any tool: input_json_delta pieces.
  calls = upstream.received.length;
  const helper = client.messages.stream({
    model: BEDROCK, max_tokens: 300, tools: ANTHROPIC_TOOLS, tool_choice: { type: 'any' },
    messages: [first] });
  let json = '', jsonDeltas = 0;
  helper.on('inputJson', (delta) => { json += delta; jsonDeltas++; });
  const final = await helper.finalMessage();
  assert.equal(final.stop_reason, 'tool_use');
  const use = final.content.find((b) => b.type === 'tool_use');
  assert.equal(use?.name, 'save_note');
  assert.deepEqual(use.input, want);
  assert.deepEqual(JSON.parse(json), want);
  assert.ok(jsonDeltas > 10, `the input streamed in pieces (${jsonDeltas})`);
  sent = bedrockSent(calls, true);
  assert.deepEqual(sent.toolConfig.toolChoice, { any: {} });

  // The next turn, streamed: the assistant's content as the SDK built it, the result.
  calls = upstream.received.length;
  const s = await client.messages.create({
    model: BEDROCK, max_tokens: 300, tools: ANTHROPIC_TOOLS, stream: true,
    messages: [first, { role: 'assistant', content: final.content },
               { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: TOOL_RESULT }] }] });
  let text = '';
  for await (const e of s) if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
  assert.equal(text, 'Summary: ' + TOOL_RESULT);
  sent = bedrockSent(calls, true);
  assert.deepEqual(sent.messages.map((x) => x.role), ['user', 'assistant', 'user']);
  const sentUse = sent.messages[1].content.find((b) => b.toolUse)?.toolUse;
  assert.equal(sentUse?.toolUseId, use.id);
  assert.match(sentUse.input.note, TOKEN);
  const result = sent.messages[2].content[0].toolResult;
  assert.equal(result?.toolUseId, use.id);
  assert.equal(result.status, 'success');
  assert.match(result.content[0].text, TOKEN);
  assert.match(result.content[0].text, /\[MRN_[0-9A-Z]+\]/);
  assertUpstreamSawNoPhi();
});

test('bedrock: a caller without the permission gets tokens, never PHI', async () => {
  const r = await openai(KEYS.analyst).chat.completions.create({
    model: BEDROCK, messages: [{ role: 'user', content: NOTE }] });
  assert.match(r.choices[0].message.content, TOKEN);
  noPhiIn('openai answer', JSON.stringify(r));
  const stream = await openai(KEYS.analyst).chat.completions.create({
    model: BEDROCK, stream: true, messages: [{ role: 'user', content: NOTE }] });
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  assert.match(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), TOKEN);
  noPhiIn('openai stream', JSON.stringify(chunks));
  const tool = await openai(KEYS.analyst).chat.completions.create({
    model: BEDROCK, messages: [{ role: 'user', content: NOTE }], tools: OPENAI_TOOLS });
  assert.match(JSON.parse(tool.choices[0].message.tool_calls[0].function.arguments).note, TOKEN);
  noPhiIn('openai tool call', JSON.stringify(tool));
  const helper = anthropic(KEYS.analyst).messages.stream({
    model: BEDROCK, max_tokens: 300, tools: ANTHROPIC_TOOLS, messages: [{ role: 'user', content: NOTE }] });
  const events = [];
  helper.on('streamEvent', (e) => events.push(e));
  const final = await helper.finalMessage();
  assert.match(final.content[0].text, TOKEN);
  assert.match(final.content.find((b) => b.type === 'tool_use').input.note, TOKEN);
  noPhiIn('anthropic stream', JSON.stringify(events) + JSON.stringify(final));
  assertUpstreamSawNoPhi();
});

// The failures of a ConverseStream end each SDK's stream with an error: an
// exception message mid-stream, an answer cut before its end (whole messages
// or halfway through one), a malformed event, a frame whose CRC is wrong.
test('bedrock stream failures: each SDK\'s stream ends with an error, no PHI in it', async () => {
  const messages = [{ role: 'user', content: NOTE }];
  const cases = [
    [{ exception: 'throttlingException' }, /reported an error/, 'Summary: '],
    [{ truncate: true }, /truncated/, 'Summary: ' + NOTE],
    [{ truncate: 'mid-frame' }, /truncated/, 'Summary: ' + NOTE],
    [{ malformed: true }, /malformed stream/, 'Summary: '],
    [{ badCrc: true }, /malformed stream/, undefined],
  ];
  // A stream cut mid-answer: the start of the answer, re-identified, and no
  // more: the half of a token the gateway held back is dropped at the error.
  const partOfAnswer = (text, what) => {
    assert.ok(('Summary: ' + NOTE).startsWith(text) && text.length > 'Summary: '.length &&
              text.length < NOTE.length, `${what}: ${JSON.stringify(text)}`);
  };
  const clean = (e) => {
    const s = String(e?.message);
    return !s.includes(PHI.name) && !s.includes(PHI.mrn) && !/Too many requests/.test(s);
  };
  try {
    for (const [mode, message, before] of cases) {
      const what = JSON.stringify(mode);
      upstream.setMode(BEDROCK_ID, mode);
      let calls = upstream.received.length;
      const stream = await openai().chat.completions.create({ model: BEDROCK, stream: true, messages });
      let text = '', finish;
      await assert.rejects((async () => {
        for await (const c of stream) {
          text += c.choices[0]?.delta?.content ?? '';
          if (c.choices[0]?.finish_reason) finish = c.choices[0].finish_reason;
        }
      })(), (e) => message.test(String(e.message)) && clean(e), `openai ${what}`);
      assert.equal(finish, undefined, `openai ${what}: no finish_reason`);
      if (before !== undefined) assert.equal(text, before, `openai ${what}`);
      else partOfAnswer(text, `openai ${what}`);
      bedrockSent(calls, true);

      calls = upstream.received.length;
      const s = await anthropic().messages.create({ model: BEDROCK, max_tokens: 300, stream: true, messages });
      const types = [];
      let atext = '';
      await assert.rejects((async () => {
        for await (const e of s) {
          types.push(e.type);
          if (e.type === 'content_block_delta') atext += e.delta.text;
        }
      })(), (e) => message.test(String(e.message)) && clean(e), `anthropic ${what}`);
      assert.ok(!types.includes('message_stop') && !types.includes('message_delta'), `anthropic ${what}: ${types}`);
      if (before !== undefined) assert.equal(atext, before, `anthropic ${what}`);
      else partOfAnswer(atext, `anthropic ${what}`);
      bedrockSent(calls, true);
    }
    // The MessageStream helper raises the error as well.
    upstream.setMode(BEDROCK_ID, { exception: 'modelStreamErrorException' });
    const helper = anthropic().messages.stream({ model: BEDROCK, max_tokens: 300, messages });
    await assert.rejects(helper.finalMessage(), (e) => /reported an error/.test(String(e.message)) && clean(e));
    // A throttled whole answer: the status comes through, the vendor's text does not.
    await assert.rejects(openai().chat.completions.create({ model: BEDROCK, messages }),
                         (e) => e.status === 429 && clean(e));
  } finally {
    upstream.clearModes();
  }
  assertUpstreamSawNoPhi();
  // The gateway goes on serving.
  const r = await openai().chat.completions.create({ model: BEDROCK, messages });
  assert.equal(r.choices[0].message.content, 'Summary: ' + NOTE);
});

test('bedrock: a route whose SigV4 signature Bedrock refuses gets the 403, PHI-free', async () => {
  // The fake refuses what is not signed at all, as Bedrock does.
  const unsigned = await fetch(`http://127.0.0.1:${upstream.port}/model/${encodeURIComponent(BEDROCK_ID)}/converse`,
                               { method: 'POST', body: '{"messages":[]}' });
  assert.equal(unsigned.status, 403);
  assert.equal(unsigned.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
  // The gateway sends the session token, signed.
  let calls = upstream.received.length;
  await openai().chat.completions.create({ model: BEDROCK, messages: [{ role: 'user', content: NOTE }] });
  const good = upstream.received.at(-1);
  bedrockSent(calls, false);
  assert.equal(good.headers['x-amz-security-token'], AWS.token);
  assert.match(good.headers.authorization, /SignedHeaders=[a-z0-9;-]*x-amz-security-token/);
  // The route with the wrong secret: signed, refused; the client sees the status only.
  for (const stream of [false, true]) {
    calls = upstream.received.length;
    await assert.rejects(openai().chat.completions.create({
      model: 'claude-bedrock-badkey', stream, messages: [{ role: 'user', content: NOTE }] }),
      (e) => e.status === 403 && /HTTP status 403/.test(String(e.message)) &&
             !String(e.message).includes(PHI.name) && !/signature/i.test(String(e.message)));
    assert.equal(upstream.received.length, calls + 1);
    const bad = upstream.received.at(-1);
    assert.match(bad.sigv4, /signature we calculated does not match/);
    assert.equal(bad.url, `/model/claude-bedrock-badkey/${stream ? 'converse-stream' : 'converse'}`);
  }
  await assert.rejects(anthropic().messages.create({
    model: 'claude-bedrock-badkey', max_tokens: 50, messages: [{ role: 'user', content: NOTE }] }),
    (e) => e.status === 403 && !String(e.message).includes(PHI.name));
  assertUpstreamSawNoPhi();
});

test('bedrock: what Converse cannot do as asked is refused before anything is sent', async () => {
  const calls = upstream.received.length;
  await assert.rejects(openai().chat.completions.create({
    model: BEDROCK, tools: OPENAI_TOOLS, tool_choice: 'none', messages: [{ role: 'user', content: NOTE }] }),
    (e) => e.status === 400 && /not supported on Bedrock routes/.test(String(e.message)) &&
           !String(e.message).includes(PHI.name));
  await assert.rejects(openai().chat.completions.create({
    model: BEDROCK, n: 2, messages: [{ role: 'user', content: NOTE }] }),
    (e) => e.status === 400 && /not supported on Bedrock routes/.test(String(e.message)));
  await assert.rejects(openai().responses.create({ model: BEDROCK, input: NOTE }),
                       (e) => e.status >= 400 && e.status < 500 && !String(e.message).includes(PHI.name));
  assert.equal(upstream.received.length, calls, 'nothing reached Bedrock');
});

test('/metrics: the SQLite page cache that skips idle truncations is in use', async () => {
  // Every vault and audit commit above truncated its page cache; with the
  // cache of src/store/sqlite/page_cache.cc installed before SQLite started,
  // the ones that could remove nothing were skipped (0 means it was not installed).
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = text.match(/^phigate_sqlite_page_cache_truncations_total\{result="skipped"\} (\d+)$/m);
  assert.ok(m, 'the counter is exported');
  assert.ok(Number(m[1]) > 0, `skipped truncations: ${m[1]}`);
});

// Last (it stops the gateway): the trail the requests above wrote verifies
// with the CLI, and against a head a witness kept (`audit checkpoint`); a
// witnessed head the trail does not hold fails verification (exit 1), and a
// malformed witness file is a usage error (exit 2).
test('audit verify --witness: the trail holds the witnessed head', async () => {
  gw.kill('SIGTERM');
  await new Promise((r) => (gw.exitCode === null ? gw.on('exit', r) : r()));
  const env = { ...process.env, PHIGATE_MASTER_KEY: MASTER_KEY };
  const store = `sqlite://${path.join(tmp, 'vault-audit.db')}`;
  const run = (...args) => {
    try {
      return { code: 0, out: execFileSync(BIN, ['audit', ...args, '--store', store], { env }).toString() };
    } catch (e) {
      return { code: e.status, out: String(e.stdout) + String(e.stderr) };
    }
  };
  const cp = run('checkpoint', '--tenant', 'acme');
  assert.equal(cp.code, 0, cp.out);
  const head = JSON.parse(cp.out.trim());
  assert.ok(head.tree_size > 0, cp.out);
  const witness = path.join(tmp, 'witness.jsonl');
  fs.writeFileSync(witness, cp.out);
  const ok = run('verify', '--tenant', 'acme', '--witness', witness);
  assert.equal(ok.code, 0, ok.out);
  assert.match(ok.out, new RegExp(`witnessed head at size ${head.tree_size} is in the trail`));
  // A kept head that is not the one signed (its size edited) fails.
  fs.writeFileSync(witness, JSON.stringify({ ...head, tree_size: head.tree_size + 1000 }) + '\n');
  const edited = run('verify', '--tenant', 'acme', '--witness', witness);
  assert.equal(edited.code, 1, edited.out);
  assert.match(edited.out, /BROKEN .*signature does not verify/);
  fs.writeFileSync(witness, 'not a checkpoint\n');
  assert.equal(run('verify', '--witness', witness).code, 2);
});

// After the test above (the gateway is stopped): a master key rotation.
// `keys rewrap` re-wraps the vault's keys; the gateway runs on the new key and
// its tokens still round-trip; the audit trail, signed by the old key before and
// the new key after, verifies only with the old key given as retired, and the
// accounting of disclosures finds the patient's sends under both keys.
test('master key rotation: vault re-wrapped, trail verified across it', async () => {
  const keyFile = (name, hex) => {
    const f = path.join(tmp, name);
    fs.writeFileSync(f, hex + '\n', { mode: 0o600 });
    return f;
  };
  const NEW_KEY = crypto.randomBytes(32).toString('hex');
  const oldFile = keyFile('old.key', MASTER_KEY);
  const newFile = keyFile('new.key', NEW_KEY);
  const vault = `sqlite://${path.join(tmp, 'vault.db')}`;
  const audit = `sqlite://${path.join(tmp, 'vault-audit.db')}`;
  const run = (...args) => {
    try {
      return { code: 0, out: execFileSync(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString() };
    } catch (e) {
      return { code: e.status, out: String(e.stdout) + String(e.stderr) };
    }
  };
  for (const tenant of ['acme', 'globex']) {
    const r = run('keys', 'rewrap', '--tenant', tenant, '--store', vault,
                  '--master-key-file', oldFile, '--new-master-key-file', newFile);
    assert.equal(r.code, 0, r.out);
  }
  const again = await startGateway(path.join(tmp, 'phigate.yaml'), NEW_KEY);
  try {
    gw = again.proc;
    port = again.port;
    const c = openai();
    const r = await c.chat.completions.create({
      model: 'local-llama', messages: [{ role: 'user', content: NOTE }],
    });
    // The fake upstream echoes the prompt: the clinician gets the real values back.
    assert.ok(r.choices[0].message.content.includes(PHI.mrn), 'the MRN came back');
  } finally {
    gw.kill('SIGTERM');
    await new Promise((r) => (gw.exitCode === null ? gw.on('exit', r) : r()));
  }
  const verify = (...more) => run('audit', 'verify', '--store', audit, '--tenant', 'acme', ...more);
  const alone = verify('--master-key-file', newFile);
  assert.equal(alone.code, 1, alone.out);
  assert.match(alone.out, /BROKEN .*does not verify/);
  const both = verify('--master-key-file', newFile, '--retired-master-key-file', oldFile);
  assert.equal(both.code, 0, both.out);
  assert.match(both.out, /newest head is signed by key 2 of 2/);
  assert.doesNotMatch(both.out, /WARN/);
  // A key newer than every head (here a third one): verified, with a warning.
  const third = keyFile('third.key', crypto.randomBytes(32).toString('hex'));
  const ahead = verify('--master-key-file', third, '--retired-master-key-file', oldFile,
                       '--retired-master-key-file', newFile);
  assert.equal(ahead.code, 0, ahead.out);
  assert.match(ahead.out, /key 2 of 3/);
  assert.match(ahead.out, /WARN .*no head is signed by the newest key/);
  const sends = (...keys) => {
    const r = run('audit', 'disclosures', '--store', audit, '--tenant', 'acme',
                  '--patient', `MRN ${PHI.mrn}`, '--format', 'json', ...keys);
    assert.equal(r.code, 0, r.out);
    const j = JSON.parse(r.out);
    return j.disclosures.length + j.deidentified_sends.length;
  };
  const before = sends('--master-key-file', oldFile);
  const after = sends('--master-key-file', newFile);
  assert.ok(before > 0 && after > 0, `before ${before}, after ${after}`);
  assert.equal(sends('--master-key-file', newFile, '--retired-master-key-file', oldFile),
               before + after);
});
