// The OpenAPI document, served and checked in, validated by @apidevtools/swagger-parser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import SwaggerParser from '@apidevtools/swagger-parser';
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
