// The official openai npm SDK against a gateway with API keys: the errors it raises are the ones its users handle.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import OpenAI, { AuthenticationError, PermissionDeniedError, RateLimitError } from 'openai';
import { startGateway } from './gateway.mjs';

const key = (name) => `gw-${name}-${randomBytes(16).toString('hex')}`;
const sha256 = (text) => createHash('sha256').update(text, 'utf8').digest('hex');
const keys = { app: key('app'), echoOnly: key('echo-only'), limited: key('limited'), paced: key('paced') };

let gateway;
const clientFor = (apiKey) => new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey, maxRetries: 0 });

before(async () => {
  gateway = await startGateway({
    Gateway__Auth__Keys__0__Name: 'app',
    Gateway__Auth__Keys__0__KeyHash: sha256(keys.app),
    Gateway__Auth__Keys__1__Name: 'echo-only',
    Gateway__Auth__Keys__1__KeyHash: sha256(keys.echoOnly),
    Gateway__Auth__Keys__1__Models__0: 'echo',
    Gateway__Auth__Keys__2__Name: 'limited',
    Gateway__Auth__Keys__2__KeyHash: sha256(keys.limited),
    Gateway__Auth__Keys__2__RequestsPerMinute: '1',
    Gateway__Auth__Keys__3__Name: 'paced',
    Gateway__Auth__Keys__3__KeyHash: sha256(keys.paced),
    Gateway__Auth__Keys__3__RequestsPerMinute: '6',
    Gateway__Auth__Keys__3__TokensPerMinute: '600',
  });
});

after(async () => {
  await gateway?.stop();
});

const ask = (client, model = 'echo') =>
  client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello keys' }], stream: true });

test('a configured key streams', async () => {
  let text = '';
  for await (const chunk of await ask(clientFor(keys.app))) text += chunk.choices[0]?.delta?.content ?? '';
  assert.equal(text, 'hello keys');
});

test('a wrong key raises AuthenticationError', async () => {
  await assert.rejects(ask(clientFor('sk-wrong')), (error) => error instanceof AuthenticationError && error.code === 'invalid_api_key');
});

test('a model outside the key allowlist raises PermissionDeniedError', async () => {
  await assert.rejects(ask(clientFor(keys.echoOnly), 'lorem'), (error) => error instanceof PermissionDeniedError && error.code === 'model_not_allowed');
  const models = await clientFor(keys.echoOnly).models.list();
  assert.deepEqual(models.data.map((model) => model.id), ['echo']);
  // The allowlist first, as for a completion: a restricted key learns nothing of which other aliases exist.
  for (const other of ['lorem', 'no-such-model']) {
    await assert.rejects(clientFor(keys.echoOnly).models.retrieve(other), (error) => error instanceof PermissionDeniedError && error.code === 'model_not_allowed');
  }
});

test('over RequestsPerMinute raises RateLimitError with Retry-After', async () => {
  const client = clientFor(keys.limited);
  // Listing models is not counted, as at OpenAI; completions are.
  await client.models.list();
  await client.models.list();
  for await (const chunk of await ask(client)) assert.ok(chunk.choices);
  await assert.rejects(ask(client), (error) => {
    assert.ok(error instanceof RateLimitError);
    assert.ok(Number(error.headers.get('retry-after')) > 0);
    // The key's bucket, as OpenAI's 429s say theirs: empty, and full again in under a minute (Go's duration format).
    assert.equal(error.headers.get('x-ratelimit-limit-requests'), '1');
    assert.equal(error.headers.get('x-ratelimit-remaining-requests'), '0');
    assert.match(error.headers.get('x-ratelimit-reset-requests'), /^(\d+(\.\d+)?s|\d+ms)$/);
    return true;
  });
});

// What clients that pace themselves read (LangChain, the cookbook's parallel processor, LiteLLM's router): the key's own
// buckets after this call. The clock runs between the take and the headers: 600 tokens a minute give back one in 0.1 s,
// and 6 requests one in 10 s, so a slow machine moves the tokens' count a little and the requests' not at all.
test('a key with limits reads them with .withResponse()', async () => {
  const client = clientFor(keys.paced);
  const { data: completion, response } = await client.chat.completions
    .create({ model: 'echo', messages: [{ role: 'user', content: 'hello keys '.repeat(10).trim() }] })
    .withResponse();
  assert.equal(response.headers.get('x-ratelimit-limit-requests'), '6');
  assert.equal(response.headers.get('x-ratelimit-remaining-requests'), '5');
  assert.match(response.headers.get('x-ratelimit-reset-requests'), /^\d+(\.\d+)?s$/);
  assert.equal(response.headers.get('x-ratelimit-limit-tokens'), '600');
  // A whole answer's headers say its settled usage, not its reservation (256 more).
  const used = completion.usage.total_tokens;
  const remaining = Number(response.headers.get('x-ratelimit-remaining-tokens'));
  assert.ok(remaining >= 600 - used && remaining <= 600 - used + 30, `remaining ${remaining} after ${used}`);
  assert.match(response.headers.get('x-ratelimit-reset-tokens'), /^\d+(\.\d+)?s$/);

  // A stream's come with its response, before the first chunk: its reservation (the prompt and the default 256) is held.
  const { data: stream, response: streamed } = await client.chat.completions
    .create({ model: 'echo', messages: [{ role: 'user', content: 'hello keys' }], stream: true })
    .withResponse();
  assert.equal(streamed.headers.get('x-ratelimit-remaining-requests'), '4');
  assert.ok(Number(streamed.headers.get('x-ratelimit-remaining-tokens')) < remaining - 200);
  for await (const chunk of stream) assert.ok(chunk.choices);

  // A key without limits is told nothing.
  const { response: free } = await clientFor(keys.app).chat.completions
    .create({ model: 'echo', messages: [{ role: 'user', content: 'hello keys' }] })
    .withResponse();
  assert.equal(free.headers.get('x-ratelimit-limit-requests'), null);
  assert.equal(free.headers.get('x-ratelimit-limit-tokens'), null);
});
