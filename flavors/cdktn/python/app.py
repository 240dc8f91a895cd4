"""
The cdktn flavor from Python (cdk_model_rollout_cdktn): the stack of flavors/python/apps/aws_app.py (same input,
same construct ids) with cdktn and its AWS provider's Python packages. cdktn publishes no Kubernetes provider package, so the stack declares the
provider with a small TerraformProvider subclass, as the TypeScript flavor does (flavors/cdktn/kubernetes-provider.ts).
test/flavors/cdktn-python.test.ts compares its `resource` blocks and plans with aws_app.ts's (the cdktn flavor
synthesizes the cdktf build's `resource` blocks: test/flavors/cdktn.test.ts).

Run: python app.py [outdir]
"""
import sys
import typing

import jsii
from cdk8s import App as K8sApp, Chart, Duration, Size
from cdktn import App, Fn, LocalBackend, TerraformProvider, TerraformStack
from cdktn_provider_aws.provider import AwsProvider
from constructs import Construct
from cdk_model_rollout_cdktn import Gpu, GpuProduct, Steps
from cdk_model_rollout_cdktn.aws import AlbCanaryRollout, CanaryAlarmOptions, EksAccess, GpuNodeGroup, KubernetesManifests
from cdk_model_rollout_cdktn.k8s import AutoscalingOptions, Model


class KubernetesProvider(TerraformProvider):
    """The hashicorp/kubernetes provider block: host, CA and an exec credential plugin."""

    def __init__(self, scope: Construct, id: str, *, host: str, cluster_ca_certificate: str, exec: typing.List[dict]) -> None:
        super().__init__(scope, id, terraform_resource_type="kubernetes",
                         terraform_generator_metadata={"provider_name": "kubernetes", "provider_version_constraint": "~> 2.0"},
                         terraform_provider_source="kubernetes")
        self._config = {"host": host, "cluster_ca_certificate": cluster_ca_certificate, "exec": exec}

    @jsii.member(jsii_name="synthesizeAttributes")
    def _synthesize_attributes(self) -> typing.Mapping[str, typing.Any]:
        return self._config


class GpuInference(TerraformStack):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        LocalBackend(self, path="terraform.gpu-inference.tfstate")
        cluster_name = "inference"
        endpoint = "https://ABCDEF0123456789.gr7.us-east-1.eks.amazonaws.com"
        ca = "LS0tLS1CRUdJTi..."

        AwsProvider(self, "Aws", region="us-east-1")
        KubernetesProvider(self, "Kubernetes", host=endpoint, cluster_ca_certificate=Fn.base64decode(ca), exec=[{
            "api_version": "client.authentication.k8s.io/v1beta1", "command": "aws", "args": ["eks", "get-token", "--cluster-name", cluster_name],
        }])

        GpuNodeGroup(self, "A10G", cluster_name=cluster_name, subnet_ids=["subnet-0aa11bb22cc33dd44", "subnet-0ee55ff66aa77bb88"],
                     instance_types=["g5.2xlarge"], min_size=0, max_size=4)

        chart = Chart(K8sApp(), "Llama", namespace="models", disable_resource_name_hashes=True)
        llama = Model(
            chart, "Llama", name="llama", prometheus_url="http://prometheus-operated.monitoring.svc:9090",
            image="vllm/vllm-openai:v0.6.3", port=8000,
            memory=Size.gibibytes(24), gpu=Gpu.nvidia(count=1, product=GpuProduct.A10_G),
        )
        llama.add_version("v2", image="vllm/vllm-openai:v0.6.4")
        production = llama.add_environment("production", version="v1", autoscaling=AutoscalingOptions(min_replicas=2, max_replicas=4))

        AlbCanaryRollout(
            self, "Rollout", name="llama",
            listener_arn="arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/inference/50dc6c495c0c9188/f2f7dc8efc522ab2",
            vpc_id="vpc-0a1b2c3d4e5f60718", priority=100, host_headers=["llama.example.com"],
            canaries=[{"version": "v2"}], steps=Steps.equal(count=10, over=Duration.minutes(20)),
            alarms=CanaryAlarmOptions(error_rate=0.01, p99_latency=Duration.seconds(8)), environment=production,
            eks=EksAccess(cluster_name=cluster_name, endpoint=endpoint, certificate_authority=ca),
            load_balancer_security_group_id="sg-0123456789abcdef0",
        )
        # last: the bridge renders the chart as it stands (the rollout added the canary's workload)
        KubernetesManifests(self, "Workloads", charts=[chart])


app = App(outdir=sys.argv[1] if len(sys.argv) > 1 else "dist")
GpuInference(app, "gpu-inference")
app.synth()
