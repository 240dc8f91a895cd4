"""
Runs the three apps of flavors/python/apps/ (one per entry point) the way `python <app> <outdir>` runs them
(runpy, as __main__, with that argv), in this one process: the jsii kernel loads the assemblies of cdktf and its
providers once (~20 s of a Python process' start), not once per app. Their output goes to
$MODEL_ROLLOUT_PY_OUT/<app>/ when set (test/flavors/python.test.ts compares it byte for byte with the TypeScript
twins'), else to pytest's temporary directory.
"""
import os
import pathlib
import runpy
import sys

import pytest

APPS = pathlib.Path(__file__).resolve().parent.parent / "apps"


@pytest.mark.parametrize(
    "app, expected",
    [
        ("plan_app", ["llama-cautious.rollout.json", "llama-cautious.rollout.md"]),
        ("k8s_app", ["llama-c82ea07c.k8s.yaml", "llama-production.rollout.json", "llama-production.rollout.md"]),
        ("aws_app", ["manifest.json", "stacks/gpu-inference/cdk.tf.json", "stacks/gpu-inference/llama-production.rollout.json"]),
    ],
)
def test_app_synthesizes(app, expected, tmp_path, monkeypatch):
    root = os.environ.get("MODEL_ROLLOUT_PY_OUT")
    outdir = pathlib.Path(root) / app if root else tmp_path / app
    monkeypatch.setattr(sys, "argv", [str(APPS / f"{app}.py"), str(outdir)])
    runpy.run_path(str(APPS / f"{app}.py"), run_name="__main__")
    written = sorted(str(p.relative_to(outdir)) for p in outdir.rglob("*") if p.is_file())
    for name in expected:
        assert name in written
