// The official openai npm SDK, with its default retries, against a gateway whose only provider fails: the gateway
// retries the provider itself, and tells the SDK not to run the whole chain again on top (x-should-retry: false).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import OpenAI, { APIError } from 'openai';
import { startGateway } from './gateway.mjs';

let upstream;
let upstreamCalls = 0;
let gateway;

before(async () => {
  // An OpenAI-compatible provider that answers every completion with a 500.
  upstream = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      upstreamCalls += 1;
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { message: 'provider broke', type: 'server_error', param: null, code: null } }));
    });
  });
  await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  gateway = await startGateway({
    Gateway__Providers__broken__Type: 'openai',
    Gateway__Providers__broken__BaseUrl: `http://127.0.0.1:${upstream.address().port}/v1`,
    Gateway__Providers__broken__ApiKey: 'sk-provider',
    Gateway__Models__flaky__Deployments__0__Provider: 'broken',
    Gateway__Models__flaky__Deployments__0__Model: 'm',
    Gateway__Resilience__MaxRetries: '1',
    Gateway__Resilience__BaseDelayMs: '10',
  });
});

after(async () => {
  await gateway?.stop();
  await new Promise((resolve) => upstream?.close(resolve));
});

test('a failure the gateway already retried is not retried again by the SDK', async () => {
  // The SDK's defaults: two retries of a 5xx unless the response says not to.
  const client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'sk-not-needed' });

  await assert.rejects(
    client.chat.completions.create({ model: 'flaky', messages: [{ role: 'user', content: 'hi' }] }),
    (error) => {
      assert.ok(error instanceof APIError, `expected APIError, got ${error?.constructor?.name}`);
      assert.equal(error.status, 502);
      assert.equal(error.code, 'upstream_error');
      assert.equal(error.headers.get('x-should-retry'), 'false');
      return true;
    },
  );
  // The gateway's first try and its one retry; without the header the SDK would have sent the call three times.
  assert.equal(upstreamCalls, 2);
});
