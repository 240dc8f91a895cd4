/**
 * The TypeScript twin of flavors/cdktn/python/app.py, on the main package (cdktf): same input, same construct ids. The cdktn flavor
 * synthesizes the same `resource` blocks as the cdktf build (test/flavors/cdktn.test.ts), so the Python cdktn app's
 * blocks must equal these; test/flavors/cdktn-python.test.ts compares them.
 */
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { App as K8sApp, Chart, Duration, Size } from 'cdk8s';
import { App, Fn, LocalBackend, TerraformStack } from 'cdktf';
import { Gpu, GpuProduct, Steps } from '../../../src';
import { AlbCanaryRollout, GpuNodeGroup, KubernetesManifests } from '../../../src/aws';
import { Model } from '../../../src/k8s';

export function synth(outdir: string): void {
  const clusterName = 'inference';
  const endpoint = 'https://ABCDEF0123456789.gr7.us-east-1.eks.amazonaws.com';
  const ca = 'LS0tLS1CRUdJTi...';
  const app = new App({ outdir });
  const stack = new TerraformStack(app, 'gpu-inference');
  new LocalBackend(stack, { path: 'terraform.gpu-inference.tfstate' });
  new AwsProvider(stack, 'Aws', { region: 'us-east-1' });
  new KubernetesProvider(stack, 'Kubernetes', {
    host: endpoint,
    clusterCaCertificate: Fn.base64decode(ca),
    exec: [{ apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'aws', args: ['eks', 'get-token', '--cluster-name', clusterName] }],
  });
  new GpuNodeGroup(stack, 'A10G', {
    clusterName, subnetIds: ['subnet-0aa11bb22cc33dd44', 'subnet-0ee55ff66aa77bb88'], instanceTypes: ['g5.2xlarge', 'g5.4xlarge'], minSize: 0, maxSize: 4,
  });
  const chart = new Chart(new K8sApp(), 'Llama', { namespace: 'models', disableResourceNameHashes: true });
  const llama = new Model(chart, 'Llama', {
    name: 'llama',
    // the prometheus-operator Prometheus that scrapes the PodMonitor; KEDA's trigger queries it
    prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090',
    image: 'vllm/vllm-openai:v0.6.3',
    port: 8000,
    args: ['--model', 'meta-llama/Llama-3.1-8B-Instruct', '--port', '8000', '--max-model-len', '8192'],
    memory: Size.gibibytes(24),
    gpu: Gpu.nvidia({ count: 1, product: GpuProduct.A10G }),
  });
  llama.addVersion('v2', { image: 'vllm/vllm-openai:v0.6.4' });
  const production = llama.addEnvironment('production', { version: 'v1', autoscaling: { minReplicas: 2, maxReplicas: 4 } });
  new AlbCanaryRollout(stack, 'Rollout', {
    name: 'llama',
    listenerArn: 'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/inference/50dc6c495c0c9188/f2f7dc8efc522ab2',
    vpcId: 'vpc-0a1b2c3d4e5f60718',
    priority: 100,
    hostHeaders: ['llama.example.com'],
    canaries: [{ version: 'v2' }],
    steps: Steps.equal({ count: 10, over: Duration.minutes(20) }),
    alarms: { errorRate: 0.01, p99Latency: Duration.seconds(8) },
    environment: production,
    eks: { clusterName, endpoint, certificateAuthority: ca },
    loadBalancerSecurityGroupId: 'sg-0123456789abcdef0',
  });
  // last: the bridge renders the chart as it stands (the rollout added the canary's workload)
  new KubernetesManifests(stack, 'Workloads', { charts: [chart] });
  app.synth();
}
