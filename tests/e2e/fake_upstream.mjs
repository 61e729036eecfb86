// A fake model vendor on 127.0.0.1:0 for the end-to-end tests: OpenAI
// /v1/chat/completions and Anthropic /v1/messages, stream or not. It echoes
// "Summary: <last user text>" (streamed in 3-byte pieces so tokens split across
// chunks) and records every request it received, to check what left phigate.
//
// Misbehaving modes, chosen per request by the model name (the gateway forwards
// the model, never the client's headers): `up.setMode(model, mode)` with
//   { say: 'text' }   answer with this text instead of the echo (a leak the
//                     test planted: another tenant's canary, a stored patient's name);
//   { replay: true }  an answer cache not scoped to the tenant: the first answer
//                     made for this model is served to every later request;
//   { malformed: true } a stream whose fourth text event has an index that is
//                     no integer ("0"), then nothing more.
// Models without a mode keep the default echo.
import http from 'node:http';

function lastText(body) {
  const m = body.messages[body.messages.length - 1];
  if (typeof m.content === 'string') return m.content;
  return m.content.map((b) => b.text ?? (typeof b.content === 'string' ? b.content : '')).join('');
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
      let answer = 'Summary: ' + lastText(body);
      const mode = modes.get(body.model);
      if (mode?.say !== undefined) answer = mode.say;
      if (mode?.replay) {
        if (mode.cached === undefined) mode.cached = answer;
        answer = mode.cached;
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
