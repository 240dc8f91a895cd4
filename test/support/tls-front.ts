/**
 * A TLS endpoint in front of a loopback plain-HTTP server: what a pod reaches at `https://$KUBERNETES_SERVICE_HOST:
 * $KUBERNETES_SERVICE_PORT`, where the API server serves TLS with a certificate signed by the cluster CA that the
 * pod finds in its service-account mount (`ca.crt`). Each TLS connection is piped, bytes unchanged, to the backend.
 * @see https://kubernetes.io/docs/tasks/run-application/access-api-from-pod/
 */
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { makeCa, makeServerCert } from './test-ca';

export interface TlsFront {
  readonly host: string;
  readonly port: number;
  /** PEM of the CA that signed the front's certificate. */
  readonly ca: Buffer;
  close(): Promise<void>;
}

/** Listen with TLS on a free loopback port and forward every connection to `127.0.0.1:backendPort`. */
export async function startTlsFront(backendPort: number): Promise<TlsFront> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-front-'));
  makeCa(dir, 'cluster-ca');
  makeServerCert(dir, 'cluster-ca');
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ key: fs.readFileSync(path.join(dir, 'server.key')), cert: fs.readFileSync(path.join(dir, 'server.crt')) }, (client) => {
    const backend = net.connect(backendPort, '127.0.0.1');
    sockets.add(client).add(backend);
    const done = () => { client.destroy(); backend.destroy(); sockets.delete(client); sockets.delete(backend); };
    client.on('error', done).on('close', done);
    backend.on('error', done).on('close', done);
    client.pipe(backend).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const ca = fs.readFileSync(path.join(dir, 'cluster-ca.crt'));
  return {
    host: '127.0.0.1',
    port: (server.address() as net.AddressInfo).port,
    ca,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
