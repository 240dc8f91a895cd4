/**
 * What every Kubernetes example must satisfy to start on real hardware and be accepted by a real API server: the
 * vLLM serving arguments, and the CRD and name limits of what it renders.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Yaml } from 'cdk8s';

/** Check the YAML an example wrote into `outdir`. */
export function expectServableExample(outdir: string): void {
  const objects = fs.readdirSync(outdir).filter((f: string) => f.endsWith('.yaml')).flatMap((f: string) => Yaml.load(path.join(outdir, f)));
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
