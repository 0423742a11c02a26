"""The Kubeflow pipeline: compiled for a cluster, submitted to a stand-in API, and run for real here.

The local run goes through the CLI, as a user runs it, with every step in its own subprocess talking
to moto's S3 server; only ``model_building`` imports TensorFlow, so the whole run takes under a minute.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import yaml
from minio import Minio

from mnist_core import config, data
from mnist_core.pipeline import compile_pipeline
from mnist_core.predict import Predictor
from mnist_core.store import MinioSettings, MinioStore
from tests.support.processes import run_cli
from tests.support.stub_api import JsonApi, serving

STEPS = ["get-data-batch", "reshape-data", "model-building", "model-serving"]
IMAGE = "registry.example.org/mnist-studio:1.2"
ACCESS_KEY, SECRET_KEY = "test-access-key", "test-secret-key"



# ---------------------------------------------------------------- compiled for a cluster


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> tuple[str, dict, dict]:
    """The YAML text, the pipeline spec and the Kubernetes platform spec."""
    path = compile_pipeline(tmp_path_factory.mktemp("compiled") / "pipeline.yaml", image=IMAGE)
    text = path.read_text()
    spec, platform = yaml.safe_load_all(text)
    return text, spec, platform


def test_the_steps_run_in_order_and_hand_on_datasets(compiled):
    _, spec, _ = compiled
    tasks = spec["root"]["dag"]["tasks"]
    assert sorted(tasks) == sorted([*STEPS[:3], "condition-1"])
    assert "dependentTasks" not in tasks["get-data-batch"]
    assert tasks["reshape-data"]["dependentTasks"] == ["get-data-batch"]
    assert tasks["model-building"]["dependentTasks"] == ["reshape-data"]
    handed_on = {
        name: {key: value["taskOutputArtifact"] for key, value in task["inputs"].get("artifacts", {}).items()}
        for name, task in tasks.items()
    }
    assert handed_on == {
        "get-data-batch": {},
        "reshape-data": {"splits": {"outputArtifactKey": "splits", "producerTask": "get-data-batch"}},
        "model-building": {"reshaped": {"outputArtifactKey": "reshaped", "producerTask": "reshape-data"}},
        "condition-1": {},
    }
    assert all(task.get("cachingOptions", {}).get("enableCache") is not True for task in tasks.values())


def test_model_serving_runs_after_model_building_only_when_deploy_is_on(compiled):
    _, spec, _ = compiled
    condition = spec["root"]["dag"]["tasks"]["condition-1"]
    assert condition["taskInfo"]["name"] == "deploy"
    assert condition["triggerPolicy"]["condition"] == "inputs.parameter_values['pipelinechannel--deploy'] == true"
    assert condition["dependentTasks"] == ["model-building"]
    serving = spec["components"]["comp-condition-1"]["dag"]["tasks"]["model-serving"]
    assert serving["inputs"]["parameters"]["run_id"] == {
        "componentInputParameter": "pipelinechannel--model-building-Output"
    }
    assert serving["inputs"]["parameters"]["image"] == {"runtimeValue": {"constant": IMAGE}}
    assert serving["inputs"]["parameters"]["secret"] == {"runtimeValue": {"constant": "mnist-store"}}
    assert serving["cachingOptions"].get("enableCache") is not True
    parameters = spec["root"]["inputDefinitions"]["parameters"]
    assert parameters["deploy"]["defaultValue"] is False
    assert parameters["serving_runtime"]["defaultValue"] == "mnist-studio"


def test_parameters_and_artifact_types(compiled):
    _, spec, _ = compiled
    parameters = spec["root"]["inputDefinitions"]["parameters"]
    assert {name: parameter["parameterType"] for name, parameter in parameters.items()} == {
        "preset": "STRING",
        "epochs": "NUMBER_INTEGER",
        "batch_size": "NUMBER_INTEGER",
        "learning_rate": "NUMBER_DOUBLE",
        "seed": "NUMBER_INTEGER",
        "feedback": "BOOLEAN",
        "store_endpoint": "STRING",
        "store_bucket": "STRING",
        "deploy": "BOOLEAN",
        "service_name": "STRING",
        "serving_runtime": "STRING",
    }
    assert parameters["preset"]["defaultValue"] == "fast"
    assert parameters["seed"]["defaultValue"] == config.DEFAULT_SEED

    def artifact_types(component: str, direction: str) -> dict:
        definitions = spec["components"][f"comp-{component}"][direction].get("artifacts", {})
        return {name: artifact["artifactType"]["schemaTitle"] for name, artifact in definitions.items()}

    assert artifact_types("get-data-batch", "outputDefinitions") == {"splits": "system.Dataset"}
    assert artifact_types("reshape-data", "inputDefinitions") == {"splits": "system.Dataset"}
    assert artifact_types("reshape-data", "outputDefinitions") == {"reshaped": "system.Dataset"}
    assert artifact_types("model-building", "inputDefinitions") == {"reshaped": "system.Dataset"}
    assert artifact_types("model-building", "outputDefinitions") == {
        "model": "system.Model",
        "metrics": "system.Metrics",
        "confusion": "system.ClassificationMetrics",
    }
    assert spec["root"]["outputDefinitions"]["parameters"] == {"Output": {"parameterType": "STRING"}}


def test_steps_run_in_the_image_and_read_the_keys_from_a_secret(compiled):
    text, spec, platform = compiled
    executors = spec["deploymentSpec"]["executors"]
    assert sorted(executors) == sorted(f"exec-{step}" for step in STEPS)
    for executor in executors.values():
        container = executor["container"]
        assert container["image"] == IMAGE
        assert "pip install" not in " ".join(container["command"])  # the image has everything
        assert "import mnist_core" in container["command"][-1] or "from mnist_core" in container["command"][-1]
    secrets_by_step = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    for step in STEPS:
        (secret,) = secrets_by_step[f"exec-{step}"]["secretAsEnv"]
        assert secret["secretName"] == "mnist-store"
        assert secret["secretNameParameter"] == {"runtimeValue": {"constant": "mnist-store"}}
        assert {pair["envVar"]: pair["secretKey"] for pair in secret["keyToEnv"]} == {
            "MINIO_ACCESS_KEY": "MINIO_ACCESS_KEY",
            "MINIO_SECRET_KEY": "MINIO_SECRET_KEY",
        }
    assert "minioadmin" not in text and SECRET_KEY not in text


def test_cli_compile_without_a_secret(tmp_path):
    path = tmp_path / "out" / "pipeline.yaml"
    result = run_cli("pipeline", "compile", "-o", str(path), "--image", IMAGE, "--secret", "", env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert str(path) in result.stdout
    documents = list(yaml.safe_load_all(path.read_text()))
    assert len(documents) == 1  # no platform spec: the keys come from the image's environment
    assert documents[0]["deploymentSpec"]["executors"]["exec-model-building"]["container"]["image"] == IMAGE


# ---------------------------------------------------------------- submitted to Kubeflow


class FakeKubeflow(JsonApi):
    """Just enough of the Kubeflow Pipelines v2beta1 API for ``kfp.Client`` to submit a run."""

    received: ClassVar[list[tuple[str, dict]]] = []

    def do_GET(self):
        self.answer({"multi_user": False} if self.path.startswith("/apis/v2beta1/healthz") else {})

    def do_POST(self):
        body = self.body()
        self.received.append((self.path, body))
        if self.path.startswith("/apis/v2beta1/experiments"):
            self.answer({"experiment_id": "experiment-1", "display_name": body["display_name"]})
        else:
            self.answer({"run_id": "run-1", "display_name": body["display_name"]})


@pytest.fixture
def kubeflow_host():
    FakeKubeflow.received = []
    with serving(FakeKubeflow) as url:
        yield url


def test_submit_sends_the_pipeline_with_its_parameters(kubeflow_host, capsys):
    from mnist_core.cli import main

    code = main(["pipeline", "submit", "--host", kubeflow_host, "--store-endpoint", "minio-service.kubeflow:9000",
                 "--epochs", "3", "--image", IMAGE])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["kubeflow_run_id"] == "run-1"
    (run,) = [body for path, body in FakeKubeflow.received if path.startswith("/apis/v2beta1/runs")]
    assert run["experiment_id"] == "experiment-1"
    assert run["runtime_config"]["parameters"] == {
        "preset": "fast", "epochs": 3, "batch_size": 0, "learning_rate": 0.0, "seed": config.DEFAULT_SEED,
        "store_endpoint": "minio-service.kubeflow:9000", "store_bucket": "", "deploy": False,
        "feedback": False,
    }
    sent = run["pipeline_spec"]
    assert sorted(sent["pipeline_spec"]["root"]["dag"]["tasks"]) == sorted([*STEPS[:3], "condition-1"])
    assert "secretAsEnv" in json.dumps(sent["platform_spec"])


@pytest.mark.parametrize(
    ("host", "fragment"),
    [("http://127.0.0.1:9", "unreachable"), ("localhost:8080", "http:// or https://")],
)
def test_submit_to_an_unreachable_host_is_one_line_and_exit_2(host, fragment):
    result = run_cli("pipeline", "submit", "--host", host, "--store-endpoint", "minio:9000", env=dict(os.environ),
                     timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert fragment in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------- run for real, here


@pytest.fixture(scope="module")
def s3_env(moto_endpoint, tmp_path_factory) -> dict:
    """An environment pointing the CLI and every step at a fresh bucket on the moto server."""
    return {
        **os.environ,
        "PYTHONPATH": str(config.PROJECT_ROOT),
        "MINIO_ENDPOINT": moto_endpoint,
        "MINIO_ACCESS_KEY": ACCESS_KEY,
        "MINIO_SECRET_KEY": SECRET_KEY,
        "MINIO_BUCKET": f"pipeline-{secrets.token_hex(4)}",
        "MINIO_SECURE": "false",
        "MNIST_STORE_DIR": str(tmp_path_factory.mktemp("spool")),
    }


@pytest.fixture(scope="module")
def s3_store(s3_env) -> MinioStore:
    return MinioStore(MinioSettings(s3_env["MINIO_ENDPOINT"], ACCESS_KEY, SECRET_KEY, s3_env["MINIO_BUCKET"]))


@pytest.fixture(scope="module")
def local_run(s3_env, tmp_path_factory) -> tuple[dict, Path]:
    """``pipeline run --local`` with the fast preset for one epoch: its JSON line and its pipeline root."""
    root = tmp_path_factory.mktemp("pipeline-root")
    result = run_cli(
        "pipeline", "run", "--local", "--preset", "fast", "--epochs", "1", "--pipeline-root", str(root), env=s3_env
    )
    assert result.returncode == 0, result.stderr[-5000:]
    (line,) = result.stdout.strip().splitlines()
    return json.loads(line), root


def executor_output(root: Path, step: str) -> dict:
    (path,) = root.glob(f"*/{step}/executor_output.json")
    return json.loads(path.read_text())


def test_local_run_trains_a_good_model_and_saves_it_in_the_store(local_run, s3_store):
    summary, _ = local_run
    assert summary["test_accuracy"] >= 0.97, summary
    assert summary["preset"] == "fast" and summary["epochs"] == 1 and summary["wall_seconds"] > 0
    run = s3_store.get_run(summary["run_id"])
    assert run["location"].startswith(f"s3://{s3_store.settings.bucket}/runs/")
    assert run["evaluation"]["test_accuracy"] == summary["test_accuracy"]
    matrix = run["evaluation"]["confusion_matrix"]
    assert len(matrix) == 10 and all(len(row) == 10 for row in matrix)
    assert sum(map(sum, matrix)) == config.TEST_SIZE
    assert run["params"]["preset"] == "fast" and run["history"]["val_accuracy"]
    model = s3_store.load_run_model(summary["run_id"])
    test = data.load_mnist()[1]
    probabilities = Predictor(model).predict_batch(test.images[:200])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert (probabilities.argmax(axis=1) == test.labels[:200]).mean() >= 0.95


def test_local_run_is_listed_like_any_other(local_run, s3_env):
    summary, _ = local_run
    result = run_cli("store", "list", "--json", env=s3_env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert summary["run_id"] in [run["run_id"] for run in json.loads(result.stdout)]


def test_local_run_hands_data_on_through_the_store(local_run, s3_store):
    _, root = local_run
    (splits,) = executor_output(root, "get-data-batch")["artifacts"]["splits"]["artifacts"]
    (reshaped,) = executor_output(root, "reshape-data")["artifacts"]["reshaped"]["artifacts"]
    assert splits["metadata"]["validation"]["ok"] is True
    assert splits["metadata"]["location"] == f"s3://{s3_store.settings.bucket}/data/{splits['metadata']['store_name']}.npz"
    assert reshaped["metadata"]["batch"] == splits["metadata"]["batch"]
    arrays = s3_store.load_arrays(reshaped["metadata"]["store_name"])
    assert {name: len(array) for name, array in arrays.items() if name.endswith("_labels")} == {
        "train_labels": config.TRAIN_SIZE - config.VALIDATION_SIZE,
        "validation_labels": config.VALIDATION_SIZE,
        "test_labels": config.TEST_SIZE,
    }
    images = arrays["test_images"]
    assert images.shape == (config.TEST_SIZE, 28, 28, 1) and images.dtype == "uint8"
    assert images.min() == 0 and images.max() == 255


def test_local_run_gives_kubeflow_its_model_metrics_and_confusion_matrix(local_run, s3_store):
    summary, root = local_run
    outputs = executor_output(root, "model-building")
    assert outputs["parameterValues"] == {"Output": summary["run_id"]}
    artifacts = {name: entry["artifacts"][0] for name, entry in outputs["artifacts"].items()}
    assert artifacts["metrics"]["metadata"] == {
        "test_accuracy": summary["test_accuracy"],
        "test_loss": summary["test_loss"],
        "train_seconds": pytest.approx(summary["train_seconds"], abs=0.01),
        "epochs": 1,
    }
    confusion = artifacts["confusion"]["metadata"]["confusionMatrix"]
    assert [spec["displayName"] for spec in confusion["annotationSpecs"]] == [str(digit) for digit in range(10)]
    assert [row["row"] for row in confusion["rows"]] == s3_store.get_run(summary["run_id"])["evaluation"][
        "confusion_matrix"
    ]
    model = artifacts["model"]
    assert model["metadata"]["run_id"] == summary["run_id"]
    stored = s3_store.get_run(summary["run_id"])["manifest"]["files"]["model.keras"]["sha256"]
    assert hashlib.sha256(Path(model["uri"]).read_bytes()).hexdigest() == stored
    saved_model = f"runs/{summary['run_id']}/saved_model/1"
    assert model["metadata"]["saved_model"] == f"s3://{s3_store.settings.bucket}/{saved_model}"
    client = Minio(s3_store.settings.endpoint, ACCESS_KEY, SECRET_KEY, secure=False)
    assert client.stat_object(s3_store.settings.bucket, f"{saved_model}/saved_model.pb").size > 0
    assert not (root / "model-serving").exists() and not list(root.glob("*/model-serving"))  # deploy is off


def test_a_failing_step_stops_the_run_with_one_last_line(s3_env, tmp_path):
    env = {**s3_env, "MNIST_NPZ": str(tmp_path / "missing.npz")}
    result = run_cli("pipeline", "run", "--local", "--pipeline-root", str(tmp_path / "root"), env=env, timeout=300)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the local pipeline run failed") and "get-data-batch" in last, last
    assert "points to a missing file" in result.stderr  # the step's own log says why


def test_an_unreachable_store_fails_before_any_step(s3_env, tmp_path):
    env = {**s3_env, "MINIO_ENDPOINT": "127.0.0.1:9"}
    result = run_cli("pipeline", "run", "--local", "--pipeline-root", str(tmp_path / "root"), env=env, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "unreachable" in result.stderr and not (tmp_path / "root").exists()
