// A fake model vendor on 127.0.0.1:0 for the end-to-end tests: OpenAI
// /v1/chat/completions and /v1/responses, Anthropic /v1/messages (and its
// count_tokens: one per character of the last message), stream or not.
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
//                     the only end a Responses stream has (no [DONE]).
// Models without a mode keep the default echo.
import http from 'node:http';

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

export async function startFakeUpstream(port = 0, host = '127.0.0.1') {
  const received = [];
  const modes = new Map();  // model -> { say?, replay?, cached?, malformed? }
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body: raw });
      if (process.env.FAKE_UPSTREAM_LOG) console.log(`[fake upstream] ${req.method} ${req.url} ${raw}`);
      let body;
      try {
        body = JSON.parse(raw);
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"bad json"}}');
        return;
      }
      const responses = new URL(req.url, 'http://fake').pathname.endsWith('/responses');
      let answer = 'Summary: ' + (responses ? lastResponsesText(body) : lastText(body));
      const mode = modes.get(body.model);
      if (mode?.say !== undefined) answer = mode.say;
      if (mode?.replay) {
        if (mode.cached === undefined) mode.cached = answer;
        answer = mode.cached;
      }
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
