// Function calling with the official openai npm SDK: its tool runner assembles the model's calls from the pieces the
// gateway streams, runs the functions, and sends their results back through the gateway to an OpenAI-compatible
// provider, which streams calls the way OpenAI does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import OpenAI from 'openai';
import { startGateway } from './gateway.mjs';

let upstream;
const upstreamBodies = [];
let gateway;
let client;

const chunk = (delta, finishReason = null) =>
  `data: ${JSON.stringify({
    id: 'up-1', object: 'chat.completion.chunk', created: 1, model: 'm',
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  })}\n\n`;

// Two parallel calls, each named by its first piece, its arguments spread over the next ones.
const callPieces = [
  chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: ' "Zürich"}' } }] }),
  chunk({ tool_calls: [{ index: 1, id: 'call_t', type: 'function', function: { name: 'get_time', arguments: '{}' } }] }),
  chunk({}, 'tool_calls'),
];

const answerPieces = [chunk({ role: 'assistant', content: 'Rain in Zürich' }), chunk({ content: ' at 1 pm.' }), chunk({}, 'stop')];

before(async () => {
  // Calls the functions until it has their results, then answers in text.
  upstream = http.createServer((request, response) => {
    let body = '';
    request.on('data', (data) => { body += data; });
    request.on('end', async () => {
      const parsed = JSON.parse(body);
      upstreamBodies.push(parsed);
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const pieces = parsed.messages.some((m) => m.role === 'tool') ? answerPieces : callPieces;
      for (const piece of pieces) {
        response.write(piece);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      response.end('data: [DONE]\n\n');
    });
  });
  await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  gateway = await startGateway({
    Gateway__Providers__up__Type: 'openai',
    Gateway__Providers__up__BaseUrl: `http://127.0.0.1:${upstream.address().port}/v1`,
    Gateway__Models__assistant__Deployments__0__Provider: 'up',
    Gateway__Models__assistant__Deployments__0__Model: 'm',
  });
  client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'sk-not-needed', maxRetries: 0 });
});

after(async () => {
  await gateway?.stop();
  await new Promise((resolve) => upstream?.close(resolve));
});

test('the SDK tool runner calls the functions with the streamed arguments and gets the answer after their results', async () => {
  upstreamBodies.length = 0;
  const calls = [];
  const runner = client.chat.completions.runTools({
    model: 'assistant',
    stream: true,
    messages: [{ role: 'user', content: 'Weather and time in Zürich?' }],
    tools: [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'The weather in a city.',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          parse: JSON.parse,
          function: ({ city }) => { calls.push(['get_weather', city]); return `rain in ${city}`; },
        },
      },
      {
        type: 'function',
        function: {
          name: 'get_time',
          parameters: { type: 'object', properties: {} },
          parse: JSON.parse,
          function: () => { calls.push(['get_time']); return '1 pm'; },
        },
      },
    ],
  });

  assert.equal(await runner.finalContent(), 'Rain in Zürich at 1 pm.');
  assert.deepEqual(calls, [['get_weather', 'Zürich'], ['get_time']]);

  // The provider saw the caller's functions, then the calls and each function's result under its call's id.
  assert.equal(upstreamBodies.length, 2);
  assert.deepEqual(upstreamBodies[0].tools.map((t) => t.function.name), ['get_weather', 'get_time']);
  assert.deepEqual(upstreamBodies[0].tools[0].function.parameters.required, ['city']);
  const [, assistant, ...results] = upstreamBodies[1].messages;
  assert.deepEqual(
    assistant.tool_calls.map((c) => [c.id, c.type, c.function.name, c.function.arguments]),
    [['call_w', 'function', 'get_weather', '{"city": "Zürich"}'], ['call_t', 'function', 'get_time', '{}']],
  );
  assert.deepEqual(results, [
    { role: 'tool', tool_call_id: 'call_w', content: 'rain in Zürich' },
    { role: 'tool', tool_call_id: 'call_t', content: '1 pm' },
  ]);
});

test('the stream helper assembles the calls with their ids and the finish reason', async () => {
  const completion = await client.chat.completions
    .stream({
      model: 'assistant',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [{ type: 'function', function: { name: 'get_weather' } }, { type: 'function', function: { name: 'get_time' } }],
    })
    .finalChatCompletion();

  const choice = completion.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.deepEqual(
    choice.message.tool_calls.map((c) => [c.id, c.function.name, c.function.arguments]),
    [['call_w', 'get_weather', '{"city": "Zürich"}'], ['call_t', 'get_time', '{}']],
  );
});

test('a simulated model told to call a function calls it, unstreamed too', async () => {
  const completion = await client.chat.completions.create({
    model: 'echo',
    messages: [{ role: 'user', content: 'What time is it?' }],
    tools: [{ type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } }],
    tool_choice: 'required',
  });

  const { message, finish_reason: finishReason } = completion.choices[0];
  assert.equal(finishReason, 'tool_calls');
  assert.equal(message.content, null);
  assert.equal(message.tool_calls.length, 1);
  assert.equal(message.tool_calls[0].function.name, 'get_time');
  assert.equal(message.tool_calls[0].function.arguments, '{}');
});
