// njs handlers (nginx's JavaScript module) for bench/load/run.sh's echo upstream.
//
// The fixed mock (response.json / response.sse) answers with text that holds none of
// the request's tokens, so a gateway in front of it re-identifies nothing. This upstream
// answers like a model that writes the patient's identifiers into its summary: every
// vault token of the request ("[NAME_7QK2X]", the gateway's token shape) is written back
// in the answer, so the gateway has a token to put back for each of them. Streamed
// answers come in pieces of 4 characters (about a model token), so most tokens split
// across events and the gateway has to hold their heads back. Both APIs: OpenAI chat
// completions and Anthropic messages, each streamed or not (the request's "stream").
// Requests straight from wrk (the direct rows) hold raw identifiers and no token: their
// answers are the same text without the tokens.

var TOKEN = /\[[A-Z]+_[0-9A-Z]+\]/g;
var SUMMARY =
  '- 61M with T2DM, HTN, HLD, CKD 3a admitted for acute on chronic HFrEF (LVEF 35%).\n' +
  '- Diuresed with IV furosemide, net -6.2 L.\n- Follow-up: HF clinic, BMP in 1 week.';
var PIECE = 4;

function parse(r) {
  var body = JSON.parse(r.requestText);
  var text = '';
  var msgs = body.messages || [];
  for (var i = 0; i < msgs.length; i++) {
    if (typeof msgs[i].content === 'string') text += msgs[i].content + '\n';
  }
  var tokens = text.match(TOKEN) || [];
  return {
    stream: body.stream === true,
    answer: 'Patient and contacts: ' + tokens.join(', ') + '.\n' + SUMMARY
  };
}

function pieces(s) {
  var out = [];
  for (var i = 0; i < s.length; i += PIECE) out.push(s.substring(i, i + PIECE));
  return out;
}

function sse(r, events) {
  r.status = 200;
  r.headersOut['Content-Type'] = 'text/event-stream';
  r.sendHeader();
  r.send(events.join(''));
  r.finish();
}

function chat(r) {
  var q = parse(r);
  if (!q.stream) {
    r.headersOut['Content-Type'] = 'application/json';
    r.return(200, JSON.stringify({
      id: 'chatcmpl-echo', object: 'chat.completion', created: 1, model: 'm',
      choices: [{index: 0, message: {role: 'assistant', content: q.answer},
                 finish_reason: 'stop'}],
      usage: {prompt_tokens: 900, completion_tokens: 90, total_tokens: 990}
    }));
    return;
  }
  function chunk(delta, finish) {
    return 'data: ' + JSON.stringify({
      id: 'chatcmpl-echo', object: 'chat.completion.chunk', created: 1, model: 'm',
      choices: [{index: 0, delta: delta, finish_reason: finish}]
    }) + '\n\n';
  }
  var ev = [chunk({role: 'assistant', content: ''}, null)];
  var p = pieces(q.answer);
  for (var i = 0; i < p.length; i++) ev.push(chunk({content: p[i]}, null));
  ev.push(chunk({}, 'stop'));
  ev.push('data: [DONE]\n\n');
  sse(r, ev);
}

function messages(r) {
  var q = parse(r);
  if (!q.stream) {
    r.headersOut['Content-Type'] = 'application/json';
    r.return(200, JSON.stringify({
      id: 'msg_echo', type: 'message', role: 'assistant', model: 'm',
      content: [{type: 'text', text: q.answer}], stop_reason: 'end_turn',
      stop_sequence: null, usage: {input_tokens: 900, output_tokens: 90}
    }));
    return;
  }
  function event(type, data) {
    var o = {type: type};  // "type" first, as Anthropic writes it
    for (var k in data) o[k] = data[k];
    return 'event: ' + type + '\ndata: ' + JSON.stringify(o) + '\n\n';
  }
  var ev = [
    event('message_start', {message: {id: 'msg_echo', type: 'message', role: 'assistant',
                                       model: 'm', content: [], stop_reason: null,
                                       stop_sequence: null,
                                       usage: {input_tokens: 900, output_tokens: 1}}}),
    event('content_block_start', {index: 0, content_block: {type: 'text', text: ''}})
  ];
  var p = pieces(q.answer);
  for (var i = 0; i < p.length; i++) {
    ev.push(event('content_block_delta', {index: 0, delta: {type: 'text_delta', text: p[i]}}));
  }
  ev.push(event('content_block_stop', {index: 0}));
  ev.push(event('message_delta', {delta: {stop_reason: 'end_turn', stop_sequence: null},
                                  usage: {output_tokens: 90}}));
  ev.push(event('message_stop', {}));
  sse(r, ev);
}

export default {chat, messages};
