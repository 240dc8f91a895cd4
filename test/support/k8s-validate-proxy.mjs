// A jest worker process' end of the shared validator (./k8s-validate-worker.mjs, served from jest's own process by
// jest-global-setup.js): a thread that forwards each batch to the validator's Unix socket as one JSON line and hands
// the answer line back on `port`, waking the caller (Atomics.wait in k8s-validate.ts). Costs a thread and a
// connection, none of the validator's ~2 s of loading. If the connection fails or closes, a waiting caller gets a
// failure instead of waiting out its timeout.
import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';

const { port, signal, socket } = workerData;
const flag = new Int32Array(signal);
let waiting = 0;

function reply(text) {
  waiting--;
  port.postMessage(text);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

const conn = net.connect(socket);
conn.setEncoding('utf8');
let pending = '';
conn.on('data', (chunk) => {
  pending += chunk;
  for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
    const line = pending.slice(0, end);
    pending = pending.slice(end + 1);
    reply(line);
  }
});
const broken = (why) => {
  while (waiting > 0) reply(JSON.stringify({ failure: `the shared k8s validator at ${socket}: ${why}` }));
};
conn.on('error', (e) => broken(e.message));
conn.on('close', () => broken('connection closed'));
parentPort.on('message', (request) => {
  if (conn.destroyed) {
    waiting++;
    broken('connection closed');
    return;
  }
  waiting++;
  conn.write(`${JSON.stringify(request)}\n`);
});
