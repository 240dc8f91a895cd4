/**
 * The AWS plan is the plan of the spec the Lambda controller reads (the SSM spec document): the same checks (the
 * rollout's CloudWatch alarms), the same hash once Terraform resolved the alarm names, and the GPU products.
 */
import { Chart, Testing as K8sTesting } from 'cdk8s';
import { Testing } from 'cdktf';
import { AlbCanaryRollout } from '../../src/aws';
import { specHash } from '../../src/core/plan/plan';
import { Environment, Model } from '../../src/k8s';
import { Gpu, GpuProduct } from '../../src/rollout';

const LISTENER = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/inference/50dc6c495c0c9188/f2f7dc8efc522ab2';
const EKS = { clusterName: 'inference', endpoint: 'https://ABC.gr7.us-east-1.eks.amazonaws.com', certificateAuthority: 'LS0t' };

function synth() {
  const chart = new Chart(K8sTesting.app(), 'Qwen', { namespace: 'models' });
  const model = new Model(chart, 'Qwen', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', image: 'vllm/vllm-openai:v0.6.3', port: 8000, gpu: Gpu.nvidia({ product: GpuProduct.L4 }) });
  model.addVersion('v2');
  const production = model.addEnvironment('production', { version: 'v1', autoscaling: { minReplicas: 2 } }) as Environment;
  let rollout!: AlbCanaryRollout;
  const out = Testing.synthScope((scope) => {
    rollout = new AlbCanaryRollout(scope, 'Rollout', { name: 'qwen', listenerArn: LISTENER, vpcId: 'vpc-1', priority: 100, canaries: [{ version: 'v2' }], environment: production, eks: EKS });
  });
  const config = JSON.parse(out);
  const alarms: Record<string, any> = config.resource.aws_cloudwatch_metric_alarm ?? {};
  const raw: string = (Object.values(config.resource.aws_ssm_parameter) as any[]).find((p) => p.name.endsWith('/spec')).value;
  // what Terraform writes into the parameter: each alarm's name reference replaced by the name it was given
  const resolved = raw.replace(/\$\{aws_cloudwatch_metric_alarm\.([\w-]+)\.alarm_name\}/g, (_m, id: string) => alarms[id].alarm_name);
  return { rollout, doc: JSON.parse(resolved), alarmNames: Object.values(alarms).map((a: any) => a.alarm_name as string) };
}

test('the AWS plan lists the alarm checks the controller runs, and its hash is the controller\'s', () => {
  const { rollout, doc, alarmNames } = synth();
  expect(alarmNames.length).toBeGreaterThan(0);
  const md = rollout.plan.toMarkdown();
  expect(md).not.toContain('checks at every tick: none');
  for (const name of alarmNames) expect(md).toContain(`fails while the CloudWatch alarm \`${name}\` is in ALARM`);
  expect(doc.spec.checks.map((c: any) => c.alarmName).sort()).toEqual([...alarmNames].sort());
  expect(rollout.plan.specHash).toBe(specHash(doc.spec));
});

test('the AWS plan names the GPU product, as the Kubernetes plan does', () => {
  const { rollout, doc } = synth();
  expect(rollout.plan.toMarkdown()).toContain('GPUs per replica: v1 1 x L4, v2 1 x L4');
  expect(doc.spec.versions).toEqual([{ name: 'v1', gpusPerReplica: 1, gpuProduct: 'L4' }, { name: 'v2', gpusPerReplica: 1, gpuProduct: 'L4' }]);
});
