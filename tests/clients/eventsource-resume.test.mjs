// The eventsource npm package (what Node applications use for SSE) watching a run through a relay that cuts the
// connection in the middle of an event, as a dropped network does: it reconnects on its own with Last-Event-ID
// and the gateway resumes after it, so every event arrives exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { EventSource } from 'eventsource';
import { startGateway } from './gateway.mjs';

const RUN_EVENTS = ['run.started', 'node.started', 'token', 'node.retrying', 'node.completed', 'node.failed', 'run.completed', 'run.failed', 'run.cancelled'];
const TERMINAL = new Set(['run.completed', 'run.failed', 'run.cancelled']);
const TOKENS = 40;

const flow = {
  flow: {
    nodes: [
      { id: 'in', type: 'input' },
      { id: 'talk', type: 'llm', model: 'lorem', prompt: 'in', maxTokens: TOKENS },
      { id: 'out', type: 'output', from: ['talk'] },
    ],
  },
  input: 'go',
};

/**
 * A TCP relay on 127.0.0.1 in front of the gateway. The first connection is cut right after the bytes `cutAt`
 * have passed, mid-event; later ones pass untouched. Records each request's target and Last-Event-ID header.
 */
async function startDroppingRelay(target, cutAt) {
  const requests = [];
  const sockets = new Set();
  let connections = 0;
  const server = net.createServer((client) => {
    const first = ++connections === 1;
    const upstream = net.connect(target.port, target.hostname);
    sockets.add(client).add(upstream);
    let head = '';
    let seen = '';
    let cut = false;
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (data) => {
      if (head !== null) {
        head += data.toString('latin1');
        const endOfHead = head.indexOf('\r\n\r\n');
        if (endOfHead >= 0) {
          const lastEventId = /^last-event-id:\s*(.*)$/im.exec(head.slice(0, endOfHead))?.[1]?.trim();
          const target = /^[A-Z]+ (\S+)/.exec(head)?.[1];
          requests.push({ lastEventId, target });
          head = null;
        }
      }
      upstream.write(data);
    });
    upstream.on('data', (data) => {
      if (!first || cut) {
        client.write(data);
        return;
      }
      const before = seen.length;
      seen += data.toString('latin1');
      const at = seen.indexOf(cutAt);
      if (at < 0) {
        client.write(data);
        return;
      }
      cut = true;
      client.write(data.subarray(0, at + cutAt.length - before), end);
    });
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    stop: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(resolve);
      }),
  };
}

let gateway;
let relay;

before(async () => {
  gateway = await startGateway({ Gateway__Providers__simulated__TokenDelayMs: '50' });
  // Cut inside event 8 (a token): the client has 1..7 whole and a torn piece of 8 that it must drop.
  relay = await startDroppingRelay(new URL(gateway.baseUrl), 'id: 8\nevent: token\n');
});

after(async () => {
  await relay?.stop();
  await gateway?.stop();
});

test('eventsource reconnects with Last-Event-ID after the connection drops mid-run and sees every event exactly once', async () => {
  const started = await fetch(`${gateway.baseUrl}/api/runs?background=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(flow),
  });
  assert.equal(started.status, 202);
  const runId = started.headers.get('x-run-id');

  const events = [];
  let errors = 0;
  await new Promise((resolve, reject) => {
    const source = new EventSource(`${relay.url}/api/runs/${runId}/events`);
    const timer = setTimeout(() => {
      source.close();
      reject(new Error(`no terminal event within 60 s; got ${events.map((e) => e.id).join(',')}`));
    }, 60_000);
    source.onerror = () => {
      errors++;
    };
    for (const name of RUN_EVENTS) {
      source.addEventListener(name, (event) => {
        events.push({ id: Number(event.lastEventId), name, data: JSON.parse(event.data) });
        if (TERMINAL.has(name)) {
          clearTimeout(timer);
          source.close();
          resolve();
        }
      });
    }
  });

  assert.ok(errors >= 1, 'the client should have seen the connection drop');
  assert.deepEqual(relay.requests.map((r) => r.lastEventId), [undefined, '7']);
  assert.deepEqual(events.map((e) => e.id), events.map((_, i) => i + 1));
  assert.equal(events.filter((e) => TERMINAL.has(e.name)).length, 1);
  const last = events.at(-1);
  assert.equal(last.name, 'run.completed');
  const tokens = events.filter((e) => e.name === 'token').map((e) => e.data.text);
  assert.equal(tokens.length, TOKENS);
  assert.equal(tokens.join(''), last.data.outputs.talk);
});

// Opened with ?after=N, an EventSource reconnects to that same URL, the query included, and adds Last-Event-ID with
// the last id it received: the gateway reads the header over the query, or the client would get 4..7 a second time.
test('eventsource opened with ?after= resumes after its Last-Event-ID, not after the query, when it reconnects', async () => {
  const cutting = await startDroppingRelay(new URL(gateway.baseUrl), 'id: 8\nevent: token\n');
  try {
    const started = await fetch(`${gateway.baseUrl}/api/runs?background=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(flow),
    });
    assert.equal(started.status, 202);
    const runId = started.headers.get('x-run-id');

    const events = [];
    await new Promise((resolve, reject) => {
      const source = new EventSource(`${cutting.url}/api/runs/${runId}/events?after=3`);
      const timer = setTimeout(() => {
        source.close();
        reject(new Error(`no terminal event within 60 s; got ${events.map((e) => e.id).join(',')}`));
      }, 60_000);
      for (const name of RUN_EVENTS) {
        source.addEventListener(name, (event) => {
          events.push({ id: Number(event.lastEventId), name });
          if (TERMINAL.has(name)) {
            clearTimeout(timer);
            source.close();
            resolve();
          }
        });
      }
    });

    const target = `/api/runs/${runId}/events?after=3`;
    assert.deepEqual(cutting.requests, [{ lastEventId: undefined, target }, { lastEventId: '7', target }]);
    assert.deepEqual(events.map((e) => e.id), events.map((_, i) => i + 4));
    assert.equal(events.at(-1).name, 'run.completed');
  } finally {
    await cutting.stop();
  }
});
