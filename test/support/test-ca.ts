/**
 * Certificates for loopback TLS servers in tests, made with the `openssl` command line (node:crypto cannot sign
 * certificates): a private CA, and a server certificate for 127.0.0.1 signed by it.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** Whether the `openssl` command is installed (Debian's `openssl`, present on the machine images). */
export const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version']);
    return true;
  } catch {
    return false;
  }
})();

// P-256 keys: an RSA-2048 key costs about a third of a second of prime search, an EC key milliseconds; what the tests
// check is the trust chain, not the key type
const NEWKEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];

/** A self-signed CA in `dir`: `<name>.crt` and `<name>.key`. */
export function makeCa(dir: string, name: string): void {
  execFileSync('openssl', ['req', '-x509', ...NEWKEY, '-nodes', '-keyout', path.join(dir, `${name}.key`), '-out', path.join(dir, `${name}.crt`),
    '-days', '1', '-subj', `/CN=${name}`], { stdio: 'ignore' });
}

/** `server.crt`/`server.key` in `dir` for IP 127.0.0.1 (subjectAltName, as Node checks it), signed by CA `ca`. */
export function makeServerCert(dir: string, ca: string): void {
  const ext = path.join(dir, 'san.ext');
  fs.writeFileSync(ext, 'subjectAltName=IP:127.0.0.1\n');
  execFileSync('openssl', ['req', ...NEWKEY, '-nodes', '-keyout', path.join(dir, 'server.key'), '-out', path.join(dir, 'server.csr'), '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  execFileSync('openssl', ['x509', '-req', '-in', path.join(dir, 'server.csr'), '-CA', path.join(dir, `${ca}.crt`), '-CAkey', path.join(dir, `${ca}.key`),
    '-CAcreateserial', '-out', path.join(dir, 'server.crt'), '-days', '1', '-extfile', ext], { stdio: 'ignore' });
}
