"""
The root entry point from Python (cdk_model_rollout): the rollout engine without any target. Computes the plan of
a canary behind a metric gate and writes <name>.rollout.md and <name>.rollout.json into <outdir>/. Its TypeScript
twin is plan_app.ts; test/flavors/python.test.ts compares the two outputs byte for byte.

Run: python plan_app.py [outdir]
"""
import sys

from cdk8s import Duration
from cdk_model_rollout import AnalysisGate, Metric, RolloutPlan, Step, Steps

error_rate = AnalysisGate(
    name="error-rate",
    metrics=[
        Metric.prometheus(
            name="error-rate",
            query='sum(rate(http_requests_total{version="{{version}}",code=~"5.."}[2m]))'
            ' / sum(rate(http_requests_total{version="{{version}}"}[2m]))',
            threshold=0.01,
        )
    ],
    count=3,
)

plan = RolloutPlan.compute(
    name="llama-cautious",
    stable_version="v1",
    canaries=[{"version": "v2"}],
    steps=Steps.custom([
        Step.set_weight(5, note="first users"),
        Step.analysis(error_rate),
        Step.set_weight(25),
        Step.pause(Duration.minutes(10)),
        Step.set_weight(100),
    ]),
    stable_replicas=4,
    gpus_per_replica={"v1": 1, "v2": 1},
)
plan.write_files(sys.argv[1] if len(sys.argv) > 1 else "dist")
