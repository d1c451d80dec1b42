// Headless Chromium (Debian's) as the client: a page at the gateway's origin starts a run and watches it with
// the browser's own EventSource, receiving every event through the terminal one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startGateway } from './gateway.mjs';

const CHROMIUM = '/usr/bin/chromium';
const TOKENS = 12;

let gateway;
let browser;
let profile;

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run scripts/install-test-deps.sh (apt-get install chromium)`);
  }
  gateway = await startGateway({ Gateway__Providers__simulated__TokenDelayMs: '20' });
  // A fresh profile per run, so nothing a previous run left behind is reused.
  profile = mkdtempSync(path.join(os.tmpdir(), 'gateway-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await gateway?.stop();
});

test('a browser EventSource on a run receives every event, in order, through run.completed', async () => {
  const page = await browser.newPage();
  // The test page is answered by the browser itself, at the gateway's origin; everything else goes to the gateway.
  const pageUrl = `${gateway.baseUrl}/__test__/watch.html`;
  await page.route(pageUrl, (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>watch a run</title>' }),
  );
  await page.goto(pageUrl);

  const seen = await page.evaluate(async (tokens) => {
    const flow = {
      flow: {
        nodes: [
          { id: 'in', type: 'input' },
          { id: 'talk', type: 'llm', model: 'lorem', prompt: 'in', maxTokens: tokens },
          { id: 'out', type: 'output', from: ['talk'] },
        ],
      },
      input: 'go',
    };
    const started = await fetch('/api/runs?background=true', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(flow),
    });
    const runId = started.headers.get('x-run-id');
    const names = ['run.started', 'node.started', 'token', 'node.retrying', 'node.completed', 'node.failed', 'run.completed', 'run.failed', 'run.cancelled'];
    return await new Promise((resolve, reject) => {
      const events = [];
      const source = new EventSource(`/api/runs/${runId}/events`);
      const timer = setTimeout(() => {
        source.close();
        reject(new Error(`no terminal event within 30 s: ${JSON.stringify(events)}`));
      }, 30_000);
      for (const name of names) {
        source.addEventListener(name, (event) => {
          events.push({ id: Number(event.lastEventId), name, data: JSON.parse(event.data) });
          if (name.startsWith('run.') && name !== 'run.started') {
            clearTimeout(timer);
            source.close();
            resolve({ status: started.status, runId, events });
          }
        });
      }
    });
  }, TOKENS);

  assert.equal(seen.status, 202);
  const { events } = seen;
  assert.deepEqual(events.map((e) => e.id), events.map((_, i) => i + 1));
  assert.equal(events[0].name, 'run.started');
  assert.equal(events[0].data.runId, seen.runId);
  assert.equal(events.at(-1).name, 'run.completed');
  const tokens = events.filter((e) => e.name === 'token').map((e) => e.data.text);
  assert.equal(tokens.length, TOKENS);
  assert.equal(tokens.join(''), events.at(-1).data.outputs.talk);
});
