/**
 * What every Kubernetes example must satisfy to start on real hardware and be accepted by a real API server: the
 * vLLM serving arguments, and the CRD and name limits of what it renders.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';

/**
 * The objects in every `.yaml` file of `outdir`, as cdk8s' `Yaml.load(file)` reads them: every document parsed as
 * YAML 1.1 (cdk8s writes 1.1), empty documents left out (cdk8s lib/yaml.js `load`). Read here in-process:
 * `Yaml.load` fetches even a local file through a child node process (`loadurl`, for URLs), ~0.15 s each.
 */
export function loadManifests(outdir: string, files = fs.readdirSync(outdir)): any[] {
  return files.filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(outdir, f), 'utf8'), { version: '1.1' }).map((d) => d.toJSON()))
    .filter((o) => o !== undefined && o !== null && !(Array.isArray(o) && o.length === 0) && !(typeof o === 'object' && Object.keys(o).length === 0));
}

/** Check the YAML an example wrote into `outdir`. */
export function expectServableExample(outdir: string): void {
  const objects = loadManifests(outdir);
  for (const d of objects.filter((o: any) => o.kind === 'Deployment' && o.spec.template.spec.containers[0].name === 'model')) {
    const c = d.spec.template.spec.containers[0];
    const arg = (flag: string) => c.args[c.args.indexOf(flag) + 1];
    // vLLM listens where the probes, Service and routes point
    expect(Number(arg('--port'))).toBe(c.ports[0].containerPort);
    expect(c.startupProbe.httpGet.port).toBe(c.ports[0].containerPort);
    expect(arg('--model')).toMatch(/^meta-llama\//);
    expect(Number(arg('--max-model-len'))).toBeGreaterThan(0);
    expect(c.env).toContainEqual({ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf-token', key: 'token' } } });
  }
  // HTTPRoute CRD (gateway-api standard v1.x): spec.rules maxItems 16, rules[].matches maxItems 64, total matches < 128
  for (const r of objects.filter((o: any) => o.kind === 'HTTPRoute')) {
    expect(r.spec.rules.length).toBeLessThanOrEqual(16);
    expect(r.spec.rules.reduce((n: number, x: any) => n + (x.matches ?? [{}]).length, 0)).toBeLessThan(128);
  }
  // Karpenter NodePool / EC2NodeClass are cluster-scoped (the Terraform bridge rejects a namespace)
  for (const o of objects.filter((x: any) => ['NodePool', 'EC2NodeClass'].includes(x.kind))) expect(o.metadata.namespace).toBeUndefined();
  // CronJob names: 52 characters at most
  for (const o of objects.filter((x: any) => x.kind === 'CronJob')) expect(o.metadata.name.length).toBeLessThanOrEqual(52);
}
