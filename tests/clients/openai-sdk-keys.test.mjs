// The official openai npm SDK against a gateway with API keys: the errors it raises are the ones its users handle.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import OpenAI, { AuthenticationError, PermissionDeniedError, RateLimitError } from 'openai';
import { startGateway } from './gateway.mjs';

const key = (name) => `gw-${name}-${randomBytes(16).toString('hex')}`;
const sha256 = (text) => createHash('sha256').update(text, 'utf8').digest('hex');
const keys = { app: key('app'), echoOnly: key('echo-only'), limited: key('limited') };

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
    return true;
  });
});
