// The official openai npm SDK against the running gateway: what an application author would write.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { NotFoundError } from 'openai';
import { startGateway } from './gateway.mjs';

let gateway;
let client;

before(async () => {
  gateway = await startGateway();
  // The SDK always sends a key; an anonymous loopback gateway ignores it.
  client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'sk-not-needed', maxRetries: 0 });
});

after(async () => {
  await gateway?.stop();
});

test('streaming through echo yields the message token by token, then usage', async () => {
  const message = 'Stream me, word by word — naïve café 🙂';
  const stream = await client.chat.completions.create({
    model: 'echo',
    messages: [{ role: 'user', content: message }],
    stream: true,
    stream_options: { include_usage: true },
  });

  const deltas = [];
  let finishReason = null;
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      if (choice.delta.content) deltas.push(choice.delta.content);
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
  }

  assert.equal(deltas.join(''), message);
  assert.equal(deltas.length, 9);
  assert.equal(finishReason, 'stop');
  assert.deepEqual(usage, { prompt_tokens: 9, completion_tokens: 9, total_tokens: 18 });
});

test('the stream helper assembles the final completion', async () => {
  const runner = client.chat.completions.stream({
    model: 'echo',
    messages: [{ role: 'user', content: 'assemble this' }],
  });
  const completion = await runner.finalChatCompletion();

  assert.equal(completion.choices[0].message.content, 'assemble this');
  assert.equal(completion.choices[0].finish_reason, 'stop');
});

test('non-streaming echo returns a chat.completion with usage', async () => {
  const completion = await client.chat.completions.create({
    model: 'echo',
    messages: [
      { role: 'system', content: 'ignored by echo' },
      { role: 'user', content: 'hello gateway' },
    ],
  });

  assert.equal(completion.object, 'chat.completion');
  assert.equal(completion.model, 'echo');
  assert.equal(completion.choices[0].message.role, 'assistant');
  assert.equal(completion.choices[0].message.content, 'hello gateway');
  assert.equal(completion.choices[0].finish_reason, 'stop');
  assert.deepEqual(completion.usage, { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 });
});

test('models.list names the aliases', async () => {
  const ids = [];
  for await (const model of client.models.list()) ids.push(model.id);

  assert.deepEqual(ids.sort(), ['echo', 'gpt-4o-mini', 'lorem']);
});

test('a completion carries a request id, as the SDK reads it', async () => {
  const { data, request_id } = await client.chat.completions
    .create({ model: 'echo', messages: [{ role: 'user', content: 'hi' }] })
    .withResponse();
  assert.equal(data.choices[0].message.content, 'hi');
  assert.match(request_id ?? '', /\S/);
});

test('models.retrieve describes a served alias, and raises NotFoundError for another', async () => {
  const echo = await client.models.retrieve('echo');
  assert.deepEqual({ ...echo }, { id: 'echo', object: 'model', created: 0, owned_by: 'gateway' });
  await assert.rejects(client.models.retrieve('no-such-model'), (error) => error instanceof NotFoundError && error.code === 'model_not_found');
});

test('an unknown model raises NotFoundError with the model_not_found code', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }),
    (error) => {
      assert.ok(error instanceof NotFoundError, `expected NotFoundError, got ${error?.constructor?.name}`);
      assert.equal(error.status, 404);
      assert.equal(error.code, 'model_not_found');
      assert.match(error.message, /no-such-model/);
      return true;
    },
  );
});

test('an unknown model raises NotFoundError for a stream too', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'no-such-model', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    NotFoundError,
  );
});
