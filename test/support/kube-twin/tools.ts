/**
 * Finds the external tools the kube-twin tests drive (kubectl, luajit) with the shell's `command -v`
 * (POSIX, https://pubs.opengroup.org/onlinepubs/9699919799/utilities/command.html).
 */
import { spawnSync } from 'child_process';

export function findTool(name: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p ? p : undefined;
}
