// A fake model vendor on 127.0.0.1:0 for the end-to-end tests: OpenAI
// /v1/chat/completions and /v1/responses, Anthropic /v1/messages (and its
// count_tokens: one per character of the last message), AWS Bedrock Converse and
// ConverseStream (below), stream or not.
// It echoes "Summary: <last user text>" (streamed in 3-byte pieces so tokens split
// across chunks) and records every request it received, to check what left phigate.
//
// Responses API: a request with a function tool and a `tool_choice` that forces a
// call ('required', or {type: 'function', name}) is answered with a function_call
// item whose arguments are {"note": <the echo>}, so that tests see tool-call
// arguments re-identified; otherwise with a message item. Streams follow OpenAI's
// typed events (`event: response.*` + data with a sequence_number, no [DONE]).
//
// Misbehaving modes, chosen per request by the model name (the gateway forwards
// the model, never the client's headers): `up.setMode(model, mode)` with
//   { say: 'text' }   answer with this text instead of the echo (a leak the
//                     test planted: another tenant's canary, a stored patient's name);
//   { replay: true }  an answer cache not scoped to the tenant: the first answer
//                     made for this model is served to every later request;
//   { malformed: true } a stream whose fourth text event has an index that is
//                     no integer ("0"; Responses: its output_index), then nothing more;
//   { truncate: true } (Responses) a stream cut just before response.completed,
//                     the only end a Responses stream has (no [DONE]);
//   { exception: 'throttlingException' } (Bedrock) a ConverseStream answer
//                     with an exception message after its third text delta, then
//                     nothing more; the whole-answer Converse a 429 ThrottlingException;
//   { truncate: true | 'mid-frame' } (Bedrock) a ConverseStream answer ending,
//                     cleanly at the HTTP level, just before messageStop, or halfway
//                     through the messageStop message's bytes;
//   { badCrc: true }  (Bedrock) one byte flipped in the middle of the event stream.
// Models without a mode keep the default echo.
//
// AWS Bedrock (src/gateway/converse.cc): POST /model/{modelId}/converse,
// /model/{modelId}/converse-stream and /count-tokens. The modes are keyed by
// the model id (the path's, percent-decoded: 'anthropic.claude-...-v1:0'), since a Converse body
// names no model. The fake:
//  - answers 403 as Bedrock does (`x-amzn-errortype`, {"message"}) unless the
//    request carries a SigV4 `authorization` (AWS4-HMAC-SHA256 Credential=...);
//    with `opts.aws = { keys: { <access key id>: { secret, sessionToken? } },
//    region? }` it recomputes the signature (canonical request with the path
//    encoded twice, signed headers, body hash, x-amz-date within 15 minutes)
//    and answers 403 InvalidSignatureException on a mismatch;
//  - answers 400 ValidationException for a body Converse refuses (roles that do
//    not alternate or a first message not the user's, an empty content list, a
//    blank text block, toolUse without a toolResult for it in the next message
//    or the other way round, toolUse/toolResult without toolConfig, a malformed
//    tool spec or tool choice, unknown inferenceConfig members); the reason is on
//    the recorded request (`rejected`), the signature check's result on `sigv4`;
//  - echoes "Summary: " + the last user message's text (its text blocks and the
//    text of its toolResults); when toolConfig has tools and the last message
//    holds no toolResult, it also calls a tool (toolChoice's named tool, else the
//    first) with {"note": <the echo>}, stopReason tool_use, like the Responses
//    answer to a forced tool choice;
//  - streams ConverseStream's binary event stream (messageStart,
//    contentBlockDelta text in 3-character pieces, contentBlockStop, a toolUse
//    block whose input JSON comes in 3-character pieces, messageStop, metadata),
//    written in 29-byte pieces (a write each) so that messages are cut across
//    writes anywhere: in a prelude, a header, a payload, a CRC.
import crypto from 'node:crypto';
import http from 'node:http';
import zlib from 'node:zlib';

function lastText(body) {
  const m = body.messages[body.messages.length - 1];
  if (typeof m.content === 'string') return m.content;
  return m.content.map((b) => b.text ?? (typeof b.content === 'string' ? b.content : '')).join('');
}

// The Responses API's last user text: `input` is a string, or a list of items
// whose last user message (an item with role "user" and no type, or type
// "message") has string content or input_text parts. `instructions` are not echoed.
function lastResponsesText(body) {
  if (typeof body.input === 'string') return body.input;
  const m = body.input.findLast((it) => it.role === 'user' &&
                                        (it.type ?? 'message') === 'message');
  if (typeof m.content === 'string') return m.content;
  return m.content.filter((p) => p.type === 'input_text').map((p) => p.text).join('');
}

// The name of the function a Responses request forces a call to, or undefined.
function forcedCall(body) {
  const fns = (body.tools ?? []).filter((t) => t.type === 'function');
  if (fns.length === 0) return undefined;
  if (body.tool_choice?.type === 'function') return body.tool_choice.name;
  if (body.tool_choice === 'required') return fns[0].name;
  return undefined;
}

// A Responses object as OpenAI writes one: the fields the SDK's `Response` type
// requires, `instructions` echoed back as OpenAI does.
function responseObject(body, status, output) {
  return { id: 'resp_1', object: 'response', created_at: 1, status, error: null,
           incomplete_details: null, instructions: body.instructions ?? null, metadata: {},
           model: body.model, output, parallel_tool_calls: true, temperature: 1,
           tool_choice: body.tool_choice ?? 'auto', tools: [], top_p: 1,
           usage: status === 'completed'
             ? { input_tokens: 1, input_tokens_details: { cached_tokens: 0 }, output_tokens: 1,
                 output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 2 }
             : null };
}

function messageItem(text, status = 'completed') {
  return { type: 'message', id: 'msg_1', status, role: 'assistant',
           content: text === undefined ? [] : [{ type: 'output_text', text, annotations: [] }] };
}

function callItem(name, args, status = 'completed') {
  return { type: 'function_call', id: 'fc_1', call_id: 'call_1', name, arguments: args, status };
}

// Answers a Responses request (`answer` is the echo or the mode's text).
function respond(res, body, answer, mode) {
  const call = forcedCall(body);
  const args = call === undefined ? undefined : JSON.stringify({ note: answer });
  const done = call === undefined ? messageItem(answer) : callItem(call, args);
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(responseObject(body, 'completed', [done])));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  let seq = 0;
  const ev = (type, data) => res.write(
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`);
  ev('response.created', { response: responseObject(body, 'in_progress', []) });
  ev('response.in_progress', { response: responseObject(body, 'in_progress', []) });
  if (call !== undefined) {
    ev('response.output_item.added', { output_index: 0, item: callItem(call, '', 'in_progress') });
    for (const [i, p] of pieces(args, 3).entries()) {
      const output_index = mode?.malformed && i === 3 ? '0' : 0;
      ev('response.function_call_arguments.delta', { item_id: 'fc_1', output_index, delta: p });
      if (output_index !== 0) { res.end(); return; }
    }
    ev('response.function_call_arguments.done',
       { item_id: 'fc_1', output_index: 0, arguments: args });
  } else {
    const at = { item_id: 'msg_1', output_index: 0, content_index: 0 };
    const part = (text) => ({ type: 'output_text', text, annotations: [] });
    ev('response.output_item.added',
       { output_index: 0, item: messageItem(undefined, 'in_progress') });
    ev('response.content_part.added', { ...at, part: part('') });
    for (const [i, p] of pieces(answer, 3).entries()) {
      const output_index = mode?.malformed && i === 3 ? '0' : 0;
      ev('response.output_text.delta', { ...at, output_index, delta: p });
      if (output_index !== 0) { res.end(); return; }
    }
    ev('response.output_text.done', { ...at, text: answer });
    ev('response.content_part.done', { ...at, part: part(answer) });
  }
  ev('response.output_item.done', { output_index: 0, item: done });
  if (mode?.truncate) { res.end(); return; }
  ev('response.completed', { response: responseObject(body, 'completed', [done]) });
  res.end();
}

function pieces(s, n) {
  const out = [];
  for (let i = 0; i < s.length; i += n) out.push(s.slice(i, i + n));
  return out;
}

// ---- AWS Bedrock (Converse, ConverseStream) ----

// One event-stream message: prelude (total length, headers length, CRC-32 of
// those 8 bytes), string headers (type 7), payload, CRC-32 of all before it.
export function eventStreamMessage(headers, payload) {
  const hs = Object.entries(headers).map(([k, v]) => {
    const name = Buffer.from(k), value = Buffer.from(v);
    const h = Buffer.alloc(1 + name.length + 1 + 2 + value.length);
    h.writeUInt8(name.length, 0);
    name.copy(h, 1);
    h.writeUInt8(7, 1 + name.length);
    h.writeUInt16BE(value.length, 2 + name.length);
    value.copy(h, 4 + name.length);
    return h;
  });
  const hb = Buffer.concat(hs);
  const pb = Buffer.from(payload);
  const total = 12 + hb.length + pb.length + 4;
  const out = Buffer.alloc(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(hb.length, 4);
  out.writeUInt32BE(zlib.crc32(out.subarray(0, 8)), 8);
  hb.copy(out, 12);
  pb.copy(out, 12 + hb.length);
  out.writeUInt32BE(zlib.crc32(out.subarray(0, total - 4)), total - 4);
  return out;
}

const bedrockEvent = (type, payload) => eventStreamMessage(
  { ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' },
  JSON.stringify(payload));

// An AWS JSON error: status, `x-amzn-errortype`, {"message": ...}.
function awsError(res, status, type, message) {
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type,
                          'x-amzn-requestid': 'e2e-request' });
  res.end(JSON.stringify({ message }));
}

// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, '/' kept.
function awsUriEncode(s) {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-_.~/]/.test(c) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

const sha256Hex = (data) => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();

const SIGV4 = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

// Why Bedrock would refuse the request's signature ({type, message}), or
// undefined. Without `aws` keys only the header's presence and form are checked.
function checkSigV4(req, bytes, aws, rec) {
  const auth = req.headers.authorization;
  if (typeof auth !== 'string' || !auth.startsWith('AWS4-HMAC-SHA256 Credential=')) {
    return { type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  }
  const m = auth.match(SIGV4);
  if (!m) {
    return { type: 'IncompleteSignatureException',
             message: 'Authorization header requires Credential, SignedHeaders and Signature.' };
  }
  if (!aws) return undefined;
  const [, keyId, day, region, service, signedList, signature] = m;
  const key = aws.keys[keyId];
  const bad = (message) => ({ type: 'InvalidSignatureException', message });
  if (!key) {
    return { type: 'UnrecognizedClientException',
             message: 'The security token included in the request is invalid.' };
  }
  if (service !== 'bedrock') return bad(`Credential should be scoped to correct service: 'bedrock'.`);
  if (aws.region && region !== aws.region) {
    return bad(`Credential should be scoped to a valid region, not '${region}'.`);
  }
  const amzDate = req.headers['x-amz-date'] ?? '';
  const d = amzDate.match(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/);
  if (!d || amzDate.slice(0, 8) !== day) {
    return bad('Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.');
  }
  const at = Date.UTC(+d[1], +d[2] - 1, +d[3], +d[4], +d[5], +d[6]);
  if (Math.abs(Date.now() - at) > 15 * 60 * 1000) return bad('Signature expired.');
  const signed = signedList.split(';');
  if (!signed.includes('host') || !signed.includes('x-amz-date') ||
      signed.join(';') !== [...signed].sort().join(';')) {
    return bad('SignedHeaders must include host and x-amz-date, sorted.');
  }
  if (key.sessionToken !== undefined &&
      (req.headers['x-amz-security-token'] !== key.sessionToken ||
       !signed.includes('x-amz-security-token'))) {
    return { type: 'UnrecognizedClientException',
             message: 'The security token included in the request is invalid.' };
  }
  const [path, query = ''] = req.url.split('?');
  let headers = '';
  for (const h of signed) {
    const v = req.headers[h];
    if (v === undefined) return bad(`the signed header ${h} is missing`);
    headers += `${h}:${String(v).trim().replace(/\s+/g, ' ')}\n`;
  }
  const canonical = ['POST', awsUriEncode(path), query, headers, signedList, sha256Hex(bytes)]
    .join('\n');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, `${day}/${region}/${service}/aws4_request`,
                  sha256Hex(canonical)].join('\n');
  let k = hmac('AWS4' + key.secret, day);
  for (const part of [region, service, 'aws4_request']) k = hmac(k, part);
  const want = hmac(k, toSign).toString('hex');
  if (want !== signature) {
    rec.canonical = canonical;
    return bad('The request signature we calculated does not match the signature you provided. ' +
               'Check your AWS Secret Access Key and signing method.');
  }
  return undefined;
}

const CONTENT_BLOCKS = new Set(['text', 'image', 'document', 'video', 'toolUse', 'toolResult',
                                'guardContent', 'cachePoint', 'reasoningContent',
                                'citationsContent']);
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

// What Converse's validation says of a request body, or undefined when valid.
function converseInvalid(b) {
  if (!isObject(b)) return 'the body must be a JSON object';
  if (!Array.isArray(b.messages) || b.messages.length === 0) {
    return 'messages: Member must have length greater than or equal to 1';
  }
  if (b.system !== undefined) {
    if (!Array.isArray(b.system)) return 'system must be a list';
    for (const [i, s] of b.system.entries()) {
      if (!isObject(s) || Object.keys(s).length !== 1) return `system.${i}: one member`;
      if ('text' in s && (typeof s.text !== 'string' || !s.text.trim())) {
        return `The text field in the SystemContentBlock object at system.${i} is blank.`;
      }
    }
  }
  let toolBlocks = false;
  for (const [i, m] of b.messages.entries()) {
    if (!isObject(m) || (m.role !== 'user' && m.role !== 'assistant')) {
      return `messages.${i}.role: Member must satisfy enum value set: [user, assistant]`;
    }
    if (i === 0 && m.role !== 'user') {
      return 'A conversation must start with a user message. Try again with a conversation that starts with a user message.';
    }
    if (i > 0 && m.role === b.messages[i - 1].role) {
      return 'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.';
    }
    if (!Array.isArray(m.content) || m.content.length === 0) {
      return `The content field in the Message object at messages.${i} is empty. Add a ContentBlock object to the content field and try again.`;
    }
    for (const [j, c] of m.content.entries()) {
      const at = `messages.${i}.content.${j}`;
      if (!isObject(c) || Object.keys(c).length !== 1 || !CONTENT_BLOCKS.has(Object.keys(c)[0])) {
        return `${at}: a ContentBlock has exactly one known member`;
      }
      if ('text' in c && (typeof c.text !== 'string' || !c.text.trim())) {
        return `The text field in the ContentBlock object at ${at} is blank. Add text to the text field, and try again.`;
      }
      if ('toolUse' in c) {
        toolBlocks = true;
        const u = c.toolUse;
        if (m.role !== 'assistant') return `${at}: toolUse in a user message`;
        if (!isObject(u) || typeof u.toolUseId !== 'string' || !TOOL_NAME.test(u.toolUseId) ||
            typeof u.name !== 'string' || !TOOL_NAME.test(u.name) || !isObject(u.input)) {
          return `${at}.toolUse: needs a toolUseId, a name and an input object`;
        }
      }
      if ('toolResult' in c) {
        toolBlocks = true;
        const r = c.toolResult;
        if (m.role !== 'user') return `${at}: toolResult in an assistant message`;
        if (!isObject(r) || typeof r.toolUseId !== 'string' || !Array.isArray(r.content) ||
            !(r.status === undefined || r.status === 'success' || r.status === 'error') ||
            !r.content.every((x) => isObject(x) && Object.keys(x).length === 1 &&
                                    (typeof x.text === 'string' || isObject(x.json)))) {
          return `${at}.toolResult: needs a toolUseId, content blocks and a valid status`;
        }
      }
    }
  }
  // Each toolUse is answered by a toolResult in the next message, and only those.
  const ids = (m, kind) => (m?.content ?? []).filter((c) => kind in c).map((c) => c[kind].toolUseId);
  for (const [i, m] of b.messages.entries()) {
    if (m.role === 'assistant' && i + 1 < b.messages.length) {
      const results = ids(b.messages[i + 1], 'toolResult');
      const missing = ids(m, 'toolUse').filter((id) => !results.includes(id));
      if (missing.length > 0) {
        return `Expected toolResult blocks at messages.${i + 1}.content for the following Ids: ${missing.join(', ')}`;
      }
    }
    if (m.role === 'user') {
      const uses = ids(b.messages[i - 1], 'toolUse');
      const stray = ids(m, 'toolResult').filter((id) => !uses.includes(id));
      if (stray.length > 0) {
        return `messages.${i}: toolResult blocks with no toolUse before them: ${stray.join(', ')}`;
      }
    }
  }
  const tc = b.toolConfig;
  if (toolBlocks && tc === undefined) {
    return 'The toolConfig field must be defined when using toolUse and toolResult content blocks.';
  }
  if (tc !== undefined) {
    if (!isObject(tc) || !Array.isArray(tc.tools) || tc.tools.length === 0) {
      return 'toolConfig.tools: Member must have length greater than or equal to 1';
    }
    for (const [i, t] of tc.tools.entries()) {
      const s = t?.toolSpec;
      if (!isObject(s) || typeof s.name !== 'string' || !TOOL_NAME.test(s.name) ||
          !isObject(s.inputSchema) || !isObject(s.inputSchema.json) ||
          !(s.description === undefined || typeof s.description === 'string')) {
        return `toolConfig.tools.${i}.toolSpec: needs a name and inputSchema.json`;
      }
    }
    const ch = tc.toolChoice;
    if (ch !== undefined) {
      const keys = isObject(ch) ? Object.keys(ch) : [];
      if (keys.length !== 1 || !['auto', 'any', 'tool'].includes(keys[0]) ||
          (keys[0] === 'tool' && !tc.tools.some((t) => t.toolSpec.name === ch.tool?.name))) {
        return 'toolConfig.toolChoice: one of auto, any, or tool naming a defined tool';
      }
    }
  }
  const md = b.requestMetadata;
  if (md !== undefined && (!isObject(md) || !Object.entries(md).every(([k, v]) =>
    /^[a-zA-Z0-9\s:_@$#=/+,.-]{1,256}$/.test(k) && typeof v === 'string' &&
    /^[a-zA-Z0-9\s:_@$#=/+,.-]{0,256}$/.test(v)))) {
    return 'requestMetadata: a map of strings (1-256 characters of [a-zA-Z0-9 :_@$#=/+,.-])';
  }
  const inf = b.inferenceConfig;
  if (inf !== undefined) {
    if (!isObject(inf)) return 'inferenceConfig must be an object';
    for (const k of Object.keys(inf)) {
      if (!['maxTokens', 'temperature', 'topP', 'stopSequences'].includes(k)) {
        return `inferenceConfig: unknown member ${k}`;
      }
    }
    if (inf.maxTokens !== undefined && !(Number.isInteger(inf.maxTokens) && inf.maxTokens >= 1)) {
      return 'inferenceConfig.maxTokens: Member must have value greater than or equal to 1';
    }
  }
  return undefined;
}

// The last message's text: its text blocks and the text of its toolResults.
function converseLastText(body) {
  const m = body.messages[body.messages.length - 1];
  return m.content.map((c) => c.text ??
    (c.toolResult ? c.toolResult.content.map((x) => x.text ?? '').join('') : '')).join('');
}

// The tool the fake model calls, or undefined (see the header comment).
function converseTool(body) {
  const tools = body.toolConfig?.tools ?? [];
  if (tools.length === 0) return undefined;
  if (body.messages.at(-1).content.some((c) => 'toolResult' in c)) return undefined;
  return body.toolConfig.toolChoice?.tool?.name ?? tools[0].toolSpec.name;
}

async function converse(req, res, bytes, rec, { modelId, stream, aws, answerFor, modes }) {
  const denied = checkSigV4(req, bytes, aws, rec);
  rec.sigv4 = denied ? denied.message : aws ? 'verified' : 'present';
  if (denied) { awsError(res, 403, denied.type, denied.message); return; }
  let body;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch {
    awsError(res, 400, 'SerializationException', 'the body is no JSON');
    return;
  }
  const invalid = converseInvalid(body);
  if (invalid) {
    rec.rejected = invalid;
    awsError(res, 400, 'ValidationException', invalid);
    return;
  }
  const mode = modes.get(modelId);
  const answer = answerFor(modelId, 'Summary: ' + converseLastText(body));
  const tool = converseTool(body);
  const input = { note: answer };
  const stopReason = tool === undefined ? 'end_turn' : 'tool_use';
  const usage = { inputTokens: 5, outputTokens: 7, totalTokens: 12 };
  if (!stream) {
    if (mode?.exception) {
      awsError(res, 429, 'ThrottlingException', 'Too many requests, please wait before trying again.');
      return;
    }
    const content = [{ text: answer }];
    if (tool !== undefined) content.push({ toolUse: { toolUseId: 'tooluse_e2e1', name: tool, input } });
    res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': 'e2e-request' });
    res.end(JSON.stringify({ output: { message: { role: 'assistant', content } }, stopReason, usage,
                             metrics: { latencyMs: 10 } }));
    return;
  }
  const frames = [bedrockEvent('messageStart', { role: 'assistant' })];
  let cut = false;  // the stream ends after `frames` (a failure mode)
  for (const [i, p] of pieces(answer, 3).entries()) {
    if (mode?.exception && i === 3) {
      frames.push(eventStreamMessage(
        { ':exception-type': mode.exception, ':content-type': 'application/json',
          ':message-type': 'exception' },
        JSON.stringify({ message: 'Too many requests, please wait before trying again.' })));
      cut = true;
      break;
    }
    const contentBlockIndex = mode?.malformed && i === 3 ? '0' : 0;
    frames.push(bedrockEvent('contentBlockDelta', { contentBlockIndex, delta: { text: p } }));
    if (contentBlockIndex !== 0) { cut = true; break; }
  }
  if (!cut) {
    frames.push(bedrockEvent('contentBlockStop', { contentBlockIndex: 0 }));
    if (tool !== undefined) {
      frames.push(bedrockEvent('contentBlockStart', { contentBlockIndex: 1,
        start: { toolUse: { toolUseId: 'tooluse_e2e1', name: tool } } }));
      for (const p of pieces(JSON.stringify(input), 3)) {
        frames.push(bedrockEvent('contentBlockDelta',
                                 { contentBlockIndex: 1, delta: { toolUse: { input: p } } }));
      }
      frames.push(bedrockEvent('contentBlockStop', { contentBlockIndex: 1 }));
    }
    const stop = bedrockEvent('messageStop', { stopReason });
    if (mode?.truncate === 'mid-frame') {
      frames.push(stop.subarray(0, stop.length >> 1));
    } else if (!mode?.truncate) {
      frames.push(stop, bedrockEvent('metadata', { usage, metrics: { latencyMs: 10 } }));
    }
  }
  const all = Buffer.concat(frames);
  if (mode?.badCrc) all[all.length >> 1] ^= 0x20;
  res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream',
                       'x-amzn-requestid': 'e2e-request' });
  for (let i = 0; i < all.length; i += 29) {
    res.write(all.subarray(i, i + 29));
    await new Promise((r) => setImmediate(r));  // separate writes, frames cut across them
  }
  res.end();
}

export async function startFakeUpstream(port = 0, host = '127.0.0.1', opts = {}) {
  const received = [];
  const modes = new Map();  // model (Bedrock: model id) -> { say?, replay?, cached?, malformed?, ... }
  // The echo, or the model's mode's text (say, replay).
  const answerFor = (model, echo) => {
    const mode = modes.get(model);
    let answer = echo;
    if (mode?.say !== undefined) answer = mode.say;
    if (mode?.replay) {
      if (mode.cached === undefined) mode.cached = answer;
      answer = mode.cached;
    }
    return answer;
  };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const bytes = Buffer.concat(chunks);
      const raw = bytes.toString('utf8');
      const rec = { method: req.method, url: req.url, headers: req.headers, body: raw };
      received.push(rec);
      if (process.env.FAKE_UPSTREAM_LOG) console.log(`[fake upstream] ${req.method} ${req.url} ${raw}`);
      const counting = req.url.split('?')[0].match(/^\/model\/([^/]+)\/count-tokens$/);
      if (counting) {
        // Bedrock's CountTokens: one "token" per character of the last
        // message of input.converse, like Anthropic's count_tokens here.
        const denied = checkSigV4(req, bytes, opts.aws, rec);
        rec.sigv4 = denied ? denied.message : opts.aws ? 'verified' : 'present';
        if (denied) { awsError(res, 403, denied.type, denied.message); return; }
        let input;
        try {
          input = JSON.parse(raw).input.converse;
          rec.rejected = converseInvalid(input);
        } catch {
          rec.rejected = 'no input.converse';
        }
        if (rec.rejected) { awsError(res, 400, 'ValidationException', rec.rejected); return; }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ inputTokens: converseLastText(input).length }));
        return;
      }
      const bedrock = req.url.split('?')[0].match(/^\/model\/([^/]+)\/(converse|converse-stream)$/);
      if (bedrock) {
        converse(req, res, bytes, rec, { modelId: decodeURIComponent(bedrock[1]),
                                         stream: bedrock[2] === 'converse-stream',
                                         aws: opts.aws, answerFor, modes })
          .catch((e) => { console.error('[fake upstream] bedrock:', e); res.destroy(); });
        return;
      }
      let body;
      try {
        body = JSON.parse(raw);
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"bad json"}}');
        return;
      }
      const responses = new URL(req.url, 'http://fake').pathname.endsWith('/responses');
      const answer = answerFor(body.model,
                               'Summary: ' + (responses ? lastResponsesText(body) : lastText(body)));
      const mode = modes.get(body.model);
      if (responses) { respond(res, body, answer, mode); return; }
      if (req.url.includes('/messages/count_tokens')) {
        // Anthropic's token count: one "token" per character of the last message.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ input_tokens: lastText(body).length }));
        return;
      }
      const anthropic = req.url.includes('/messages');
      if (!body.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(anthropic
          ? { id: 'msg_1', type: 'message', role: 'assistant', model: body.model,
              content: [{ type: 'text', text: answer }], stop_reason: 'end_turn',
              stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } }
          : { id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: body.model,
              choices: [{ index: 0, message: { role: 'assistant', content: answer },
                          finish_reason: 'stop' }],
              usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const send = (s) => res.write(s);
      if (anthropic) {
        const ev = (type, data) => send(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
        ev('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant',
          model: body.model, content: [], stop_reason: null, stop_sequence: null,
          usage: { input_tokens: 1, output_tokens: 1 } } });
        ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
        for (const [i, p] of pieces(answer, 3).entries()) {
          const index = mode?.malformed && i === 3 ? '0' : 0;
          ev('content_block_delta', { index, delta: { type: 'text_delta', text: p } });
          if (index !== 0) { res.end(); return; }
        }
        ev('content_block_stop', { index: 0 });
        ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null },
          usage: { output_tokens: 5 } });
        ev('message_stop', {});
      } else {
        const chunk = (delta, finish, index = 0) => send('data: ' + JSON.stringify({
          id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: body.model,
          choices: [{ index, delta, finish_reason: finish }] }) + '\n\n');
        chunk({ role: 'assistant', content: '' }, null);
        for (const [i, p] of pieces(answer, 3).entries()) {
          if (mode?.malformed && i === 3) { chunk({ content: p }, null, '0'); res.end(); return; }
          chunk({ content: p }, null);
        }
        chunk({}, 'stop');
        send('data: [DONE]\n\n');
      }
      res.end();
    });
  });
  await new Promise((r) => server.listen(port, host, r));
  return {
    port: server.address().port,
    received,
    setMode: (model, mode) => modes.set(model, { ...mode }),
    clearModes: () => modes.clear(),
    allBytes: () => received.map((r) => r.url + '\n' + JSON.stringify(r.headers) + '\n' + r.body).join('\n'),
    close: () => new Promise((r) => server.close(r)),
  };
}

// Standalone (tools/demo.sh): node fake_upstream.mjs [port]
if (import.meta.url === `file://${process.argv[1]}`) {
  const up = await startFakeUpstream(Number(process.argv[2] || 0));
  console.log(`fake upstream listening on 127.0.0.1:${up.port}`);
}
