/**
 * Headless Chromium driven through the DevTools protocol over a pipe (`--remote-debugging-pipe`: Chromium reads
 * commands on fd 3 and writes answers and events on fd 4, each a JSON message ended by a NUL byte; this is the
 * transport puppeteer's `pipe: true` uses). No WebSocket client and no npm package needed. Flat sessions
 * (`Target.attachToTarget` with `flatten: true`): page commands carry the `sessionId`.
 * @see https://chromedevtools.github.io/devtools-protocol/
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Readable, Writable } from 'stream';

export const CHROMIUM = ['chromium', 'chromium-browser'].map((b) => {
  try {
    return execFileSync('sh', ['-c', `command -v ${b}`], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}).find(Boolean);

type Message = { id?: number; method?: string; params?: any; result?: any; error?: { message: string }; sessionId?: string };

export class ChromiumPage {
  /** Start Chromium with one blank page attached. */
  public static async start(): Promise<ChromiumPage> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-pipe-'));
    const proc = spawn(CHROMIUM!, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${path.join(dir, 'profile')}`, '--remote-debugging-pipe',
      '--window-size=1000,900', 'about:blank',
    ], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
    const page = new ChromiumPage(proc, dir);
    const { targetId } = await page.send('Target.createTarget', { url: 'about:blank' });
    page.session = (await page.send('Target.attachToTarget', { targetId, flatten: true })).sessionId;
    await page.send('Page.enable', {}, page.session);
    await page.send('Runtime.enable', {}, page.session);
    return page;
  }

  private nextId = 1;
  private buffer = '';
  private readonly pending = new Map<number, { resolve: (r: any) => void; reject: (e: Error) => void }>();
  private readonly listeners: Array<(m: Message) => void> = [];
  private session?: string;
  /** The text of every dialog (`confirm`, `alert`) the page opened, accepted at once. */
  public readonly dialogs: string[] = [];

  private constructor(private readonly proc: ChildProcess, private readonly dir: string) {
    (proc.stdio[4] as Readable).on('data', (chunk: Buffer) => this.receive(chunk.toString('utf8')));
    this.listeners.push((m) => {
      if (m.method === 'Page.javascriptDialogOpening') {
        this.dialogs.push(m.params.message);
        void this.send('Page.handleJavaScriptDialog', { accept: true }, m.sessionId);
      }
    });
  }

  private receive(text: string): void {
    this.buffer += text;
    let end: number;
    while ((end = this.buffer.indexOf('\0')) >= 0) {
      const m = JSON.parse(this.buffer.slice(0, end)) as Message;
      this.buffer = this.buffer.slice(end + 1);
      if (m.id !== undefined && this.pending.has(m.id)) {
        const p = this.pending.get(m.id)!;
        this.pending.delete(m.id);
        if (m.error) p.reject(new Error(m.error.message));
        else p.resolve(m.result);
      } else {
        for (const l of this.listeners) l(m);
      }
    }
  }

  public send(method: string, params: object = {}, sessionId = this.session): Promise<any> {
    const id = this.nextId++;
    const p = new Promise<any>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    (this.proc.stdio[3] as Writable).write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    return p;
  }

  public async navigate(url: string): Promise<void> {
    await this.send('Page.navigate', { url });
  }

  /** Evaluate an expression in the page; its value (awaited when a promise). */
  public async evaluate<T = unknown>(expression: string): Promise<T> {
    const r = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  /** Wait until `expression` is truthy in the page (polled every 100 ms), or fail after `ms`. */
  public async waitFor(expression: string, ms = 15_000): Promise<void> {
    const until = Date.now() + ms;
    for (;;) {
      if (await this.evaluate<boolean>(`Boolean(${expression})`).catch(() => false)) return;
      if (Date.now() > until) throw new Error(`the page never showed ${expression}; its text: ${await this.evaluate('document.body && document.body.innerText').catch(() => '?')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A PNG screenshot of the page. */
  public async screenshot(file: string): Promise<void> {
    const { data } = await this.send('Page.captureScreenshot', { format: 'png' });
    fs.writeFileSync(file, Buffer.from(data, 'base64'));
  }

  public async close(): Promise<void> {
    await this.send('Browser.close', {}, undefined).catch(() => undefined);
    await new Promise((r) => {
      if (this.proc.exitCode !== null) r(undefined);
      else this.proc.once('exit', r);
    });
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
