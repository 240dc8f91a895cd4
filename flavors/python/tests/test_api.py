"""
The Python-facing API of cdk-model-rollout, through the jsii-generated package: props as keyword arguments, structs
as classes or dicts, enums, and the library's errors as Python exceptions with the TypeScript messages
(errors.json, which test/flavors/python.test.ts checks against the TypeScript side).
"""
import enum
import json
import pathlib

import pytest

import cdk_model_rollout
from cdk8s import App, Chart, Duration, Size
from cdk_model_rollout import Gpu, GpuProduct, RolloutPlan, Steps
from cdk_model_rollout.k8s import AutoscalingOptions, GatewayRef, Model, ScaleToZeroApi

ERRORS = json.loads((pathlib.Path(__file__).parent / "errors.json").read_text())


def message(error):
    """
    The library's message of an exception from the jsii kernel. An error thrown by a method call reaches Python as
    "<Error's name>: <message>" (the kernel's serialization), one thrown by a constructor as the message alone.
    """
    text = str(error)
    return text[len("RolloutConfigError: "):] if text.startswith("RolloutConfigError: ") else text


def kinds(chart):
    """The kinds of the objects a chart synthesizes (cdk8s' Chart.to_json, the same objects its YAML holds)."""
    return {obj["kind"] for obj in chart.to_json()}


def new_chart():
    return Chart(App(), "Chart", namespace="models", disable_resource_name_hashes=True)


def test_props_are_keyword_arguments():
    chart = new_chart()
    model = Model(chart, "Llama", name="llama", image="vllm/vllm-openai:v0.6.3", memory=Size.gibibytes(24),
                  gpu=Gpu.nvidia(count=1, product=GpuProduct.A10_G))
    model.add_version("v2", image="vllm/vllm-openai:v0.6.4")
    assert model.name == "llama"
    assert model.version("v2").name == "v2"


def test_an_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="nam"):
        Model(new_chart(), "Llama", nam="llama", image="x")


def test_a_wrong_type_is_a_type_error():
    with pytest.raises(TypeError):
        AutoscalingOptions(min_replicas="two", max_replicas=4)


def test_structs_are_classes_with_snake_case_fields_and_dicts_work_too():
    options = AutoscalingOptions(min_replicas=2, max_replicas=4)
    assert (options.min_replicas, options.max_replicas) == (2, 4)
    assert GatewayRef(name="inference", namespace="gateways").namespace == "gateways"
    plan = RolloutPlan.compute(name="p", stable_version="v1", canaries=[{"version": "v2"}],
                               steps=Steps.equal(count=4, over=Duration.minutes(8)), stable_replicas=4)
    # the same numbers as RolloutPlan.compute in TypeScript: a list of numbers and a cdk8s Duration come back
    assert plan.canary_weights == [0, 0, 25, 25, 50, 50, 75, 75, 100]
    assert plan.duration.to_minutes() == 13


def test_enums_are_python_enums_and_choose_what_renders():
    assert issubclass(ScaleToZeroApi, enum.Enum)
    assert {m.name for m in ScaleToZeroApi} == {"HTTP_SCALED_OBJECT", "INTERCEPTOR_ROUTE"}
    for api, kind in [(ScaleToZeroApi.HTTP_SCALED_OBJECT, "HTTPScaledObject"), (ScaleToZeroApi.INTERCEPTOR_ROUTE, "InterceptorRoute")]:
        chart = new_chart()
        model = Model(chart, "Llama", name="llama", image="vllm/vllm-openai:v0.6.3")
        model.add_environment("staging", version="v1", gateway=GatewayRef(name="inference", namespace="gateways"),
                              hostnames=["s.example.com"],
                              autoscaling=AutoscalingOptions(min_replicas=0, scale_to_zero_api=api))
        rendered = kinds(chart)
        assert kind in rendered
        assert ({"HTTPScaledObject", "InterceptorRoute"} - {kind}).isdisjoint(rendered)


def test_enum_like_classes_keep_their_constants():
    assert GpuProduct.A10_G.name == "A10G"
    assert GpuProduct.H100.name == "H100"


def test_errors_are_exceptions_with_the_typescript_message():
    with pytest.raises(RuntimeError) as bad_name:
        Model(new_chart(), "M", name="Bad_Name", image="x")
    assert message(bad_name.value) == ERRORS["bad_model_name"]

    chart = new_chart()
    model = Model(chart, "Llama", name="llama", image="x")
    with pytest.raises(RuntimeError) as unknown:
        model.add_environment("production", version="v9")
    assert message(unknown.value) == ERRORS["unknown_version"]

    with pytest.raises(RuntimeError) as same:
        RolloutPlan.compute(name="p", stable_version="v1", canaries=[{"version": "v1"}], steps=Steps.equal(), stable_replicas=1)
    assert message(same.value) == ERRORS["canary_is_stable"]


def test_the_submodules_are_attributes_of_the_root():
    assert cdk_model_rollout.k8s.Model is Model
    assert hasattr(cdk_model_rollout.aws, "AlbCanaryRollout")
