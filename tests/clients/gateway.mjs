// Starts the real gateway (the built Gateway.dll) on a free loopback port for a test file, and stops it.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function gatewayDll() {
  const configuration = process.env.GATEWAY_CONFIGURATION ?? 'Release';
  const dll = process.env.GATEWAY_DLL ?? path.join(root, 'src/Gateway/bin', configuration, 'net10.0/Gateway.dll');
  if (!existsSync(dll)) {
    throw new Error(`Gateway.dll not found at ${dll}: run 'dotnet build -c ${configuration}' first (scripts/test.sh does).`);
  }
  return dll;
}

/**
 * @param {Record<string, string>} settings extra configuration as environment variables (Gateway__...)
 * @returns {Promise<{ baseUrl: string, stop: () => Promise<void>, output: () => string }>}
 */
export async function startGateway(settings = {}) {
  // A store of its own, deleted on stop: gateways started by different test files never share one.
  const database = path.join(os.tmpdir(), `gateway-client-${randomUUID()}.db`);
  const child = spawn('dotnet', [gatewayDll(), '--urls', 'http://127.0.0.1:0'], {
    env: {
      ...process.env,
      DOTNET_ENVIRONMENT: 'Production',
      Gateway__Providers__simulated__TokenDelayMs: '5',
      Gateway__Storage__ConnectionString: `Data Source=${database}`,
      ...settings,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  let output = '';
  const baseUrl = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start within 30 s:\n${output}`)), 30_000);
    const onData = (data) => {
      output += data.toString();
      const match = output.match(/Now listening on: (http:\/\/127\.0\.0\.1:\d+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before listening:\n${output}`));
    });
  });

  return {
    baseUrl,
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        const removeDatabase = () => {
          for (const suffix of ['', '-wal', '-shm']) rmSync(database + suffix, { force: true });
          resolve();
        };
        if (child.exitCode !== null) return removeDatabase();
        child.once('exit', removeDatabase);
        child.kill('SIGTERM');
      }),
  };
}
