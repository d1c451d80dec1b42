// A client generated from docs/openapi.json (openapi-typescript types + openapi-fetch), compiled by tsc with
// strict checks: if the document describes the API wrongly, this file fails to compile or its asserts fail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import createClient from 'openapi-fetch';
import type { components, paths } from './generated/gateway.js';
import { startGateway, type RunningGateway } from '../gateway.mjs';

type ChatCompletion = components['schemas']['ChatCompletion'];
type ChatCompletionRequest = components['schemas']['ChatCompletionRequest'];

let gateway: RunningGateway;
let client: ReturnType<typeof createClient<paths>>;

before(async () => {
  gateway = await startGateway();
  client = createClient<paths>({ baseUrl: gateway.baseUrl });
});

after(async () => {
  await gateway?.stop();
});

test('the generated client lists the models', async () => {
  const { data, error, response } = await client.GET('/v1/models');

  assert.equal(response.status, 200);
  assert.equal(error, undefined);
  assert.deepEqual(data?.data.map((model) => model.id).sort(), ['echo', 'gpt-4o-mini', 'lorem']);
});

test('the generated client completes a chat with the typed request and response', async () => {
  const body: ChatCompletionRequest = {
    model: 'echo',
    messages: [{ role: 'user', content: [{ type: 'text', text: 'typed ' }, { type: 'text', text: 'hello' }] }],
    stop: 'never',
  };
  const { data, response } = await client.POST('/v1/chat/completions', { body });

  assert.equal(response.status, 200);
  const completion = data as ChatCompletion;
  assert.equal(completion.object, 'chat.completion');
  assert.equal(completion.choices[0].message.content, 'typed hello');
  assert.equal(completion.usage.completion_tokens, 2);
});

test('the generated client surfaces the typed OpenAI error for an unknown model', async () => {
  const { data, error, response } = await client.POST('/v1/chat/completions', {
    body: { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] },
  });

  assert.equal(response.status, 404);
  assert.equal(data, undefined);
  assert.equal(error?.error.code, 'model_not_found');
  assert.equal(error?.error.param, 'model');
});

test('the generated client creates a flow, runs it in JSON mode and reads the run back', async () => {
  type Flow = components['schemas']['Flow'];
  type RunRecord = components['schemas']['RunRecord'];
  const flow: Flow = {
    id: 'typed-summary',
    name: 'Typed client flow',
    nodes: [
      { id: 'question', type: 'input' },
      { id: 'prompt', type: 'prompt', template: 'Briefly: {{question}}' },
      { id: 'say', type: 'llm', model: 'echo', prompt: 'prompt' },
      { id: 'answer', type: 'output', from: ['say'] },
    ],
  };

  const created = await client.POST('/api/flows', { body: flow });
  assert.equal(created.response.status, 201);
  assert.equal(created.response.headers.get('location'), '/api/flows/typed-summary');

  const run = await client.POST('/api/flows/{id}/run', {
    params: { path: { id: 'typed-summary' } },
    body: { input: 'what is a gateway?' },
  });
  assert.equal(run.response.status, 200);
  const record = run.data as RunRecord;
  assert.equal(record.status, 'completed');
  assert.equal(record.outputs['say'], 'Briefly: what is a gateway?');
  const runId = run.response.headers.get('x-run-id');
  assert.equal(runId, record.runId);

  const readBack = await client.GET('/api/runs/{runId}', { params: { path: { runId: record.runId } } });
  assert.equal(readBack.response.status, 200);
  assert.equal(readBack.data?.status, 'completed');
  assert.equal(readBack.data?.nodes['say'].output, 'Briefly: what is a gateway?');
  assert.equal(readBack.data?.flowId, 'typed-summary');
});

test('the generated client replaces a flow only at the version it read, with the typed If-Match header', async () => {
  type Flow = components['schemas']['Flow'];
  const flow = (template: string): Flow => ({
    id: 'typed-versions',
    nodes: [
      { id: 'in', type: 'input' },
      { id: 'p', type: 'prompt', template },
      { id: 'out', type: 'output', from: ['p'] },
    ],
  });
  const path = { id: 'typed-versions' };
  await client.POST('/api/flows', { body: flow('v1: {{in}}') });
  const read = await client.GET('/api/flows/{id}', { params: { path } });
  const tag = read.response.headers.get('etag');
  assert.match(tag ?? '', /^"[A-Za-z0-9_-]{22}"$/);

  const first = await client.PUT('/api/flows/{id}', { params: { path, header: { 'If-Match': tag! } }, body: flow('v2: {{in}}') });
  const second = await client.PUT('/api/flows/{id}', { params: { path, header: { 'If-Match': tag! } }, body: flow('v3: {{in}}') });

  assert.equal(first.response.status, 200);
  assert.equal(second.response.status, 412);
  assert.equal(second.response.headers.get('etag'), first.response.headers.get('etag'));
  const now = await client.GET('/api/flows/{id}', { params: { path } });
  assert.equal(now.data?.nodes[1].template, 'v2: {{in}}');
});
