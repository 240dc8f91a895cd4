"""
The Kubernetes entry point from Python (cdk_model_rollout.k8s): a Model, its production Environment behind a
Gateway and a CanaryRollout, synthesized by cdk8s into <outdir>/. Its TypeScript twin is k8s_app.ts (same input,
same construct ids); test/flavors/python.test.ts compares the two outputs byte for byte.

Run: python k8s_app.py [outdir]
"""
import sys

from cdk8s import App, Chart, Duration, Size
from cdk_model_rollout import Gpu, GpuProduct, Steps
from cdk_model_rollout.k8s import AutoscalingOptions, CanaryRollout, GatewayRef, Model

app = App(outdir=sys.argv[1] if len(sys.argv) > 1 else "dist")
chart = Chart(app, "Llama", namespace="models", disable_resource_name_hashes=True)

llama = Model(
    chart,
    "Llama",
    name="llama",
    image="vllm/vllm-openai:v0.6.3",
    memory=Size.gibibytes(24),
    gpu=Gpu.nvidia(count=1, product=GpuProduct.A10_G),
    prometheus_url="http://prometheus-operated.monitoring.svc:9090",
)
llama.add_version("v2", image="vllm/vllm-openai:v0.6.4")

production = llama.add_environment(
    "production",
    version="v1",
    gateway=GatewayRef(name="inference", namespace="gateways"),
    hostnames=["llama.example.com"],
    autoscaling=AutoscalingOptions(min_replicas=2, max_replicas=4),
)

CanaryRollout(
    chart,
    "Rollout",
    environment=production,
    canaries=[{"version": "v2"}],
    steps=Steps.equal(count=5, over=Duration.minutes(10)),
)

app.synth()
