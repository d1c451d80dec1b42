// The OpenAPI document, served and checked in, validated by @apidevtools/swagger-parser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv from 'ajv';
import { startGateway } from './gateway.mjs';

const checkedIn = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/openapi.json');
let gateway;

before(async () => {
  gateway = await startGateway();
});

after(async () => {
  await gateway?.stop();
});

test('the served document is valid OpenAPI', async () => {
  const document = await (await fetch(`${gateway.baseUrl}/swagger/v1/swagger.json`)).json();
  const api = await SwaggerParser.validate(document);

  assert.match(api.openapi, /^3\./);
  assert.ok(api.paths['/v1/chat/completions'].post);
});

test('the checked-in document is valid OpenAPI and equals the served one', async () => {
  const served = await (await fetch(`${gateway.baseUrl}/swagger/v1/swagger.json`)).json();
  const api = await SwaggerParser.validate(checkedIn);

  assert.ok(api.paths['/v1/models'].get);
  const file = await SwaggerParser.parse(checkedIn);
  assert.deepEqual(served, JSON.parse(JSON.stringify(file)));
});

// Real answers checked against the document by a strict JSON Schema validator. AJV reads OpenAPI 3.0's `nullable` as
// 3.0.3 defines it: only beside a `type`. Until 2026-12-06 the document wrote it bare beside `allOf: [$ref]` and
// `oneOf`, which AJV refused to compile, and by which strict validators refused every run record (`"error": null`).
async function strictValidator() {
  const document = await (await fetch(`${gateway.baseUrl}/swagger/v1/swagger.json`)).json();
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addSchema(document, 'openapi.json');
  return (name) => ajv.compile({ $ref: `openapi.json#/components/schemas/${name}` });
}

test('a run record, a streamed node event and a request with nulls are valid by a strict validator', async () => {
  const schemaOf = await strictValidator();
  const flow = {
    nodes: [
      { id: 'in', type: 'input' },
      { id: 'say', type: 'llm', model: 'echo', prompt: 'in' },
      { id: 'out', type: 'output', from: ['say'] },
    ],
  };
  const response = await fetch(`${gateway.baseUrl}/api/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ flow, input: 'hello there' }),
  });
  const record = await response.json();
  const events = await (await fetch(`${gateway.baseUrl}/api/runs/${record.runId}/events`)).text();
  const inputCompleted = events.split('\n\n').find((event) => event.includes('event: node.completed') && event.includes('"node":"in"'));

  assert.equal(record.status, 'completed');
  assert.equal(record.error, null);
  const validRecord = schemaOf('RunRecord');
  assert.ok(validRecord(record), JSON.stringify(validRecord.errors));
  const validEvent = schemaOf('NodeCompletedEvent');
  const data = JSON.parse(inputCompleted.split('\n').find((line) => line.startsWith('data: ')).slice(6));
  assert.equal(data.usage, null);
  assert.ok(validEvent(data), JSON.stringify(validEvent.errors));
  const validRequest = schemaOf('ChatCompletionRequest');
  const request = { model: 'echo', messages: [{ role: 'assistant', content: null, tool_calls: null }], stop: null, stream_options: null, tool_choice: null };
  assert.ok(validRequest(request), JSON.stringify(validRequest.errors));
  assert.equal(validRequest({ ...request, stop: 5 }), false);
});
