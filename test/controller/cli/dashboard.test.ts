/**
 * The dashboard's server: loopback only, and commands only from its own page (the token it embeds), so a page on
 * another site cannot send a cancel through the operator's browser (no CORS preflight is granted), nor a rebound
 * DNS name reach it.
 */
import * as http from 'http';
import { queuedCommands, startDashboard } from '../../../src/controller/cli/dashboard';
import { Command } from '../../../src/core/state';
import { rolloutSpec } from '../../support/spec-fixture';

type Options = { method?: string; headers?: Record<string, string>; body?: string };
function request(url: string, options: Options = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('the dashboard server', () => {
  const stored: Command[] = [];
  const source = {
    namespace: 'models',
    names: async () => ['llama'],
    backend: () => ({
      read: async () => ({ spec: rolloutSpec(), target: {}, commands: stored }),
      appendCommand: async (kind: Command['kind'], id: string, at: number) => {
        const c = { kind, id, at, seq: stored.length + 1 };
        stored.push(c);
        return c;
      },
    }),
  };

  test('serves the page and the rollouts on 127.0.0.1, and stores a command only with the page\'s token', async () => {
    const d = await startDashboard(source);
    try {
      const page = await request(d.url);
      expect(page.status).toBe(200);
      const token = /"token":"([0-9a-f]{32})"/.exec(page.body)![1];
      const rollouts = JSON.parse((await request(`${d.url}api/rollouts`)).body);
      expect(rollouts.rollouts.map((r: any) => [r.name, r.phase])).toEqual([['llama', 'not started']]);
      const post = (headers: Record<string, string>) => request(`${d.url}api/rollouts/llama/commands`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"command":"cancel"}' });
      // a cross-site form or fetch cannot carry the header: refused, nothing stored
      expect((await post({})).status).toBe(403);
      expect(stored).toEqual([]);
      expect((await post({ 'x-model-rollout-token': token })).status).toBe(200);
      expect(stored.map((c) => c.kind)).toEqual(['cancel']);
      // the stored cancel shows as queued until the controller handles it
      expect(JSON.parse((await request(`${d.url}api/rollouts`)).body).rollouts[0].queued).toEqual([expect.objectContaining({ kind: 'cancel', seq: 1 })]);
      // a DNS name rebound to 127.0.0.1 is not this server's name
      const port = new URL(d.url).port;
      expect((await request(d.url, { headers: { host: `attacker.example:${port}` } })).status).toBe(403);
    } finally {
      await d.close();
    }
  });

  test('a command the controller handled is no longer queued', () => {
    const commands = [{ kind: 'pause', id: 'a', at: 1, seq: 1 }, { kind: 'cancel', id: 'b', at: 2, seq: 2 }] as Command[];
    expect(queuedCommands(undefined, commands).map((c) => c.seq)).toEqual([1, 2]);
    expect(queuedCommands({ commandSeq: 1 } as any, commands).map((c) => c.seq)).toEqual([2]);
  });
});
