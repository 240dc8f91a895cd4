/**
 * Finds the external tools the kube-twin tests drive (kubectl, luajit) with the shell's `command -v`
 * (POSIX, https://pubs.opengroup.org/onlinepubs/9699919799/utilities/command.html).
 */
import { spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';

export function findTool(name: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p ? p : undefined;
}

/**
 * kubectl's `--cache-dir` for the twins: under the test run's temporary directory (test/support/jest-global-setup.js),
 * not ~/.kube/cache, where every twin's new port left a discovery cache behind (kubectl keys it by host and port).
 */
export function kubectlCacheDir(): string {
  return path.join(os.tmpdir(), 'kubectl-cache');
}
