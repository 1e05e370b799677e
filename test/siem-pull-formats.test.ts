/**
 * `itportal siem pull --format`, run as a real process (from dist/) against a real server on each store,
 * for every format in the registry: one record a line (NDJSON for the JSON formats, the record itself
 * for text formats), the same records as the feed serves in that format, in order; an output keeps one
 * format; an unknown one is a usage error naming the valid ones; `itportal verify` proves json output
 * and says, for another format's output, that it reads the json format.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORMAT_NAMES, PRESENTERS } from '../src/modules/feed/presenters/index.js';
import { produceEveryEventType } from './every-event-type.js';
import { drain } from './factories.js';
import { startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

const BIN = path.resolve('bin/itportal.js');

function itportal(args: string[], env: Record<string, string> = {}) {
  const { ITPORTAL_SIEM_KEY: _drop, ...base } = process.env;
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...base, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as any).code === 'number' ? (err as any).code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

for (const kind of STORES) {
  describe(`siem pull --format on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer;
    let key: string;
    let dir: string;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      server = await startServer(testDb, { SIEM_RATE_LIMIT_PER_MINUTE: '100000' });
      ({ key } = await produceEveryEventType(server));
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'itp-pull-formats-'));
    });
    afterAll(async () => {
      await server?.close();
      await testDb?.drop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    for (const format of FORMAT_NAMES) {
      it(`--format ${format}: one record a line, the feed's records in order`, async () => {
        const out = path.join(dir, `${format}.out`);
        const run = await itportal(
          ['siem', 'pull', '--url', server.url, '--out', out, '--once', '--limit', '3', '--format', format],
          { ITPORTAL_SIEM_KEY: key },
        );
        expect(run.stderr).not.toContain(key.split('_').pop()!);
        expect(run.code, run.stderr).toBe(0);
        const text = fs.readFileSync(out, 'utf8');
        expect(text.endsWith('\n')).toBe(true);
        const lines = text.slice(0, -1).split('\n');
        const feed = (await drain(server, key, { format })).events as unknown[];
        const envelopes = (await drain(server, key)).events;
        expect(lines).toHaveLength(envelopes.length);
        const presenter = PRESENTERS.get(format)!;
        for (const [i, line] of lines.entries()) {
          if (presenter.kind === 'text') expect(line).toBe(feed[i]);
          else expect(JSON.parse(line)).toEqual(feed[i]);
          expect(line).toContain(envelopes[i]!.Id);
        }
      });
    }

    it('an output keeps its format: another --format on the same state is refused', async () => {
      const other = FORMAT_NAMES.find((f) => f !== 'json')!;
      const out = path.join(dir, 'json.out');
      const run = await itportal(
        ['siem', 'pull', '--url', server.url, '--out', out, '--once', '--format', other],
        {
          ITPORTAL_SIEM_KEY: key,
        },
      );
      expect(run.code).not.toBe(0);
      expect(run.stderr).toContain(`written with --format json; this run asks for ${other}`);
    });

    it('an unknown --format is a usage error naming the valid formats', async () => {
      const run = await itportal(
        ['siem', 'pull', '--url', server.url, '--out', path.join(dir, 'x.out'), '--format', 'xml'],
        {
          ITPORTAL_SIEM_KEY: key,
        },
      );
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`--format must be one of ${FORMAT_NAMES.join(', ')}`);
    });

    it('itportal verify proves the json output and, for another format, says it reads json', async () => {
      const res = await fetch(`${server.url}/api/siem/log/key`, { headers: { accept: 'text/plain' } });
      const keyFile = path.join(dir, 'verifier.pub');
      fs.writeFileSync(keyFile, await res.text());
      const json = path.join(dir, 'json.out');
      const ok = await itportal(['verify', '--key-file', keyFile, json, `${json}.checkpoints`]);
      expect(ok.code, ok.stderr + ok.stdout).toBe(0);
      for (const format of FORMAT_NAMES.filter((f) => f !== 'json')) {
        const out = path.join(dir, `${format}.out`);
        const bad = await itportal(['verify', '--key-file', keyFile, out, `${out}.checkpoints`]);
        expect(bad.code).not.toBe(0);
        expect(bad.stdout + bad.stderr).toContain("verify reads siem pull's json format");
      }
    });
  });
}
