"""
The AWS entry point from Python (cdk_model_rollout.aws): one cdktf stack with an A10G node group joining an
existing EKS cluster, the model's Kubernetes workloads shipped through the bridge, and an ALB canary rollout driven
by the Lambda step controller. cdktf writes <outdir>/stacks/gpu-inference/cdk.tf.json and the rollout plan beside
it. Its TypeScript twin is aws_app.ts (same input, same construct ids); test/flavors/python.test.ts compares the
two outputs byte for byte.

Run: python aws_app.py [outdir]
"""
import sys

from cdk8s import App as K8sApp, Chart, Duration, Size
from cdktf import App, Fn, LocalBackend, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider, KubernetesProviderExec
from cdk_model_rollout import Gpu, GpuProduct, Steps
from cdk_model_rollout.aws import AlbCanaryRollout, CanaryAlarmOptions, EksAccess, GpuNodeGroup, KubernetesManifests
from cdk_model_rollout.k8s import AutoscalingOptions, Model

cluster_name = "inference"
endpoint = "https://ABCDEF0123456789.gr7.us-east-1.eks.amazonaws.com"
ca = "LS0tLS1CRUdJTi..."

app = App(outdir=sys.argv[1] if len(sys.argv) > 1 else "dist")
stack = TerraformStack(app, "gpu-inference")
LocalBackend(stack, path="terraform.gpu-inference.tfstate")
AwsProvider(stack, "Aws", region="us-east-1")
KubernetesProvider(
    stack,
    "Kubernetes",
    host=endpoint,
    cluster_ca_certificate=Fn.base64decode(ca),
    exec=[KubernetesProviderExec(
        api_version="client.authentication.k8s.io/v1beta1",
        command="aws",
        args=["eks", "get-token", "--cluster-name", cluster_name],
    )],
)

GpuNodeGroup(
    stack,
    "A10G",
    cluster_name=cluster_name,
    subnet_ids=["subnet-0aa11bb22cc33dd44", "subnet-0ee55ff66aa77bb88"],
    instance_types=["g5.2xlarge"],
    min_size=0,
    max_size=4,
)

chart = Chart(K8sApp(), "Llama", namespace="models", disable_resource_name_hashes=True)
llama = Model(
    chart,
    "Llama",
    name="llama",
    image="vllm/vllm-openai:v0.6.3",
    port=8000,
    memory=Size.gibibytes(24),
    gpu=Gpu.nvidia(count=1, product=GpuProduct.A10_G),
    prometheus_url="http://prometheus-operated.monitoring.svc:9090",
)
llama.add_version("v2", image="vllm/vllm-openai:v0.6.4")
production = llama.add_environment(
    "production", version="v1", autoscaling=AutoscalingOptions(min_replicas=2, max_replicas=4)
)

AlbCanaryRollout(
    stack,
    "Rollout",
    name="llama",
    listener_arn="arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/inference/50dc6c495c0c9188/f2f7dc8efc522ab2",
    vpc_id="vpc-0a1b2c3d4e5f60718",
    priority=100,
    host_headers=["llama.example.com"],
    canaries=[{"version": "v2"}],
    steps=Steps.equal(count=10, over=Duration.minutes(20)),
    alarms=CanaryAlarmOptions(error_rate=0.01, p99_latency=Duration.seconds(8)),
    environment=production,
    eks=EksAccess(cluster_name=cluster_name, endpoint=endpoint, certificate_authority=ca),
    load_balancer_security_group_id="sg-0123456789abcdef0",
)

# last: the bridge renders the chart as it stands (the rollout added the canary's workload)
KubernetesManifests(stack, "Workloads", charts=[chart])

app.synth()
