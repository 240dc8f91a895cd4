/**
 * aws-eks-gpu: one `cdktf deploy` for GPU nodes, model workloads and a canary rollout behind an existing ALB.
 *
 * An A10G managed node group (0..4 nodes, Bottlerocket NVIDIA: the device plugin is built in) joins an existing
 * EKS cluster; the model's Kubernetes workloads (v1 stable, v2 canary) go into the same Terraform stack through
 * the bridge; the environment's route (`AlbRoute`: a listener rule and a target group per version it serves) is
 * borrowed by the rollout, whose Lambda step controller splits traffic between the versions in 10 equal steps over
 * 20 minutes, rolling back on the canary's alarms (5xx share, connection errors, unhealthy targets, p99). No terraform binary is needed to synthesize: `cdk.tf.json` and the
 * rollout plan land in examples/aws-eks-gpu/dist/stacks/gpu-inference/.
 *
 * Prerequisites this example assumes (replace the references below with yours):
 * - an EKS cluster whose `authentication_mode` is `API` or `API_AND_CONFIG_MAP` (the rollout creates an access
 *   entry for its controller), with KEDA and the AWS Load Balancer Controller installed, and a prometheus-operator
 *   Prometheus selecting the model's PodMonitor at `http://prometheus-operated.monitoring.svc:9090` (the model's
 *   `prometheusUrl`, which the KEDA trigger queries);
 * - a private API endpoint: the controller's Lambda runs in the cluster's VPC (`eks.vpc`), in subnets with a route
 *   to the AWS APIs it calls (SSM, DynamoDB, Elastic Load Balancing, CloudWatch, EventBridge Scheduler, STS, SNS)
 *   through VPC endpoints or a NAT gateway, with a security group of its own that the rollout lets into the
 *   cluster security group on 443;
 * - the namespace `models`, labelled `elbv2.k8s.aws/pod-readiness-gate-inject=enabled` so that a pod takes
 *   traffic only once the ALB sees it healthy;
 * - an ALB with an HTTPS listener and its security group (the bindings open the pods to it);
 * - a Hugging Face token in the Secret `hf-token` (key `token`) of `models`: Llama 3.1 is gated;
 * - credentials for the `aws` CLI where Terraform runs (the Kubernetes provider authenticates with
 *   `aws eks get-token --region`, the cluster's region, whatever the shell's default);
 * - the people or CI running `model-rollout --aws` get the policy of the Terraform output
 *   `llama_production_operator_policy` (spec and state reads, command items only).
 *
 * The controller keeps its progress in the DynamoDB table `model-rollout-llama-production` (Terraform output
 * `llama_production_state_table`) and reads the spec from the SSM parameter `/model-rollout/llama-production/spec`;
 * `model-rollout cancel llama-production --aws` stores a command there (conditional write) and invokes the
 * controller, which rolls back within seconds (its caller needs `lambda:InvokeFunction` on
 * `llama-production-rollout-controller`).
 *
 * After the rollout (promoted: v2 serves everything): set the environment's `version` to 'v2' and remove the
 * `AlbCanaryRollout`. The route stays: Terraform points its rule at v2's target group, then deletes v1's. The next
 * release is a new `AlbCanaryRollout` on the same route (stable v2, canary v3). `model-rollout rollback
 * llama-production --aws` within `keepPreviousWarmFor` of the promotion sends the traffic back to v1.
 *
 * Run: node -r ./test/support/register-ts.js examples/aws-eks-gpu/main.ts
 * (or `cdktf synth` / `cdktf deploy` in this folder)
 */
import * as path from 'path';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { Chart, Duration, Size, App as K8sApp } from 'cdk8s';
import { App, Fn, LocalBackend, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { Gpu, GpuProduct, Steps } from '../../src';
import { AlbCanaryRollout, AlbRoute, GpuNodeGroup, KubernetesManifests } from '../../src/aws';
import { Model } from '../../src/k8s';

export const outdir = path.join(__dirname, 'dist');

class GpuInference extends TerraformStack {
  public readonly rollout: AlbCanaryRollout;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // the state beside the stack, by a path relative to where `cdktf deploy` runs it (never an absolute path)
    new LocalBackend(this, { path: 'terraform.gpu-inference.tfstate' });

    // existing infrastructure, by reference
    const cluster = { name: 'inference', endpoint: 'https://ABCDEF0123456789.gr7.us-east-1.eks.amazonaws.com', ca: 'LS0tLS1CRUdJTi...' };
    const vpcId = 'vpc-0a1b2c3d4e5f60718';
    const subnetIds = ['subnet-0aa11bb22cc33dd44', 'subnet-0ee55ff66aa77bb88'];
    const listenerArn = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/inference/50dc6c495c0c9188/f2f7dc8efc522ab2';
    const albSecurityGroupId = 'sg-0123456789abcdef0';
    const clusterSecurityGroupId = 'sg-0fedcba9876543210';
    const controllerSecurityGroupId = 'sg-0a0b0c0d0e0f01234';
    const region = 'us-east-1';

    // providers are the stack's (the library's constructs create none)
    new AwsProvider(this, 'Aws', { region });
    new KubernetesProvider(this, 'Kubernetes', {
      host: cluster.endpoint,
      // EKS gives the CA base64-encoded; the provider wants PEM
      clusterCaCertificate: Fn.base64decode(cluster.ca),
      exec: [{ apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'aws', args: ['eks', 'get-token', '--cluster-name', cluster.name, '--region', region] }],
    });

    new GpuNodeGroup(this, 'A10G', { clusterName: cluster.name, subnetIds, instanceTypes: ['g5.2xlarge', 'g5.4xlarge'], minSize: 0, maxSize: 4 });

    // the workloads, described with the Kubernetes constructs and shipped through the bridge
    const chart = new Chart(new K8sApp(), 'Llama', { namespace: 'models', disableResourceNameHashes: true });
    const llama = new Model(chart, 'Llama', {
      name: 'llama',
      image: 'vllm/vllm-openai:v0.6.3',
      // vLLM's OpenAI server listens on 8000; probes and the target groups' health checks follow `port`
      port: 8000,
      // Llama-3.1-8B in bf16 is 16 GB of the A10G's 24 GB: cap the context so the KV cache fits in what is left
      args: ['--model', 'meta-llama/Llama-3.1-8B-Instruct', '--port', '8000', '--max-model-len', '8192'],
      memory: Size.gibibytes(24),
      gpu: Gpu.nvidia({ count: 1, product: GpuProduct.A10G }),
      prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090',
    });
    llama.addVersion('v2', { image: 'vllm/vllm-openai:v0.6.4' });
    // no gateway: the ALB routes to the versions' pods through TargetGroupBindings, so no HTTPRoute is rendered
    const production = llama.addEnvironment('production', {
      version: 'v1',
      autoscaling: { minReplicas: 2, maxReplicas: 4 },
    });

    // the host's route: kept between releases, borrowed by each rollout
    const route = new AlbRoute(this, 'Route', {
      name: 'llama',
      listenerArn,
      vpcId,
      priority: 100,
      hostHeaders: ['llama.example.com'],
      environment: production,
      loadBalancerSecurityGroupId: albSecurityGroupId,
    });

    this.rollout = new AlbCanaryRollout(this, 'Rollout', {
      name: 'llama',
      route,
      // versions, ports, health paths, GPUs, the stable version and destroy protection come from the environment
      canaries: [{ version: 'v2' }],
      steps: Steps.equal({ count: 10, over: Duration.minutes(20) }),
      alarms: { errorRate: 0.01, p99Latency: Duration.seconds(8) },
      environment: production,
      eks: {
        clusterName: cluster.name,
        endpoint: cluster.endpoint,
        certificateAuthority: cluster.ca,
        // the endpoint is private: the controller runs in the VPC, and the cluster security group lets it in
        vpc: { subnetIds, securityGroupIds: [controllerSecurityGroupId], clusterSecurityGroupId },
      },
      // phase changes to an SNS topic (encrypted with the AWS managed key)
      notificationTopic: true,
    });

    // last: the bridge renders the chart as it stands (the rollout added the canary's workload)
    new KubernetesManifests(this, 'Workloads', { charts: [chart] });
  }
}

export const app = new App({ outdir });
export const stack = new GpuInference(app, 'gpu-inference');
app.synth();
