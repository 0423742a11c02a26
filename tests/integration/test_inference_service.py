"""What ``model_serving`` applies, without a cluster: the manifests against the kserve SDK's types and the
docs, the create-or-replace calls against a stand-in Kubernetes API, and the SavedModel export.
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import ClassVar

import numpy as np
import pytest
import yaml

from mnist_core import config
from mnist_core.inference_service import ServingError, as_manifest, deploy, service_for_run
from mnist_core.pipeline_steps import export_saved_model
from mnist_core.store import LocalStore
from tests.support.stub_api import JsonApi, serving

RUN_ID = "20261124T063012Z-3f9a1c2b"
IMAGE = "registry.example.org/you/mnist-studio:0.1.0"
DOCS = config.PROJECT_ROOT / "docs" / "KUBEFLOW.md"


def custom(**overrides):
    options = {"image": IMAGE, "secret": "mnist-store", "store_endpoint": "minio-service.kubeflow:9000",
               "namespace": "kubeflow"} | overrides
    return service_for_run("mnist-studio", "mnist", RUN_ID, **options)


@pytest.fixture(scope="module", autouse=True)
def kubernetes_types_for_the_sdk():
    """The SDK's types name Kubernetes' (``V1Container``...), but its deserializer looks them up in
    ``kserve.models`` only: lend it the Kubernetes client's models for these tests."""
    import kserve.models
    from kubernetes.client import models

    lent = [name for name in dir(models) if name.startswith("V1") and not hasattr(kserve.models, name)]
    for name in lent:
        setattr(kserve.models, name, getattr(models, name))
    yield
    for name in lent:
        delattr(kserve.models, name)


def through_the_sdk(manifest: dict) -> dict:
    """The manifest read into the SDK's V1beta1InferenceService and written out again: what survives is
    what the SDK's types know, at the place they expect it."""
    from kserve import ApiClient, V1beta1InferenceService

    client = ApiClient()
    service = client.deserialize(SimpleNamespace(data=json.dumps(manifest)), "V1beta1InferenceService")
    assert isinstance(service, V1beta1InferenceService)
    return client.sanitize_for_serialization(service)


def test_the_custom_predictor_runs_this_image_with_the_store_secret():
    manifest = as_manifest(custom())
    assert through_the_sdk(manifest) == manifest
    assert manifest["apiVersion"] == "serving.kserve.io/v1beta1" and manifest["kind"] == "InferenceService"
    assert manifest["metadata"]["annotations"] == {"mnist-studio/run-id": RUN_ID}
    (container,) = manifest["spec"]["predictor"]["containers"]
    assert container["image"] == IMAGE
    assert container["command"] + container["args"] == [
        "python", "-m", "mnist_core", "serve", "--model", RUN_ID, "--host", "0.0.0.0", "--port", "8080"
    ]
    environment = {variable["name"]: variable for variable in container["env"]}
    assert environment["MINIO_ENDPOINT"]["value"] == "minio-service.kubeflow:9000"
    for key in ("MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"):
        assert environment[key] == {"name": key, "valueFrom": {"secretKeyRef": {"key": key, "name": "mnist-store"}}}
    assert container["readinessProbe"]["httpGet"] == {"path": "/v2/models/mnist/ready", "port": 8080}


def test_the_tensorflow_runtime_reads_the_saved_model_folder():
    manifest = as_manifest(service_for_run("tensorflow", "mnist-tf", RUN_ID, image=IMAGE, secret="mnist-store",
                                           store_bucket="runs-bucket", namespace="team"))
    assert through_the_sdk(manifest) == manifest
    predictor = manifest["spec"]["predictor"]
    assert predictor["model"]["modelFormat"] == {"name": "tensorflow"}
    assert predictor["model"]["storageUri"] == f"s3://runs-bucket/runs/{RUN_ID}/saved_model"
    assert predictor["serviceAccountName"] == "mnist-store-reader"
    assert manifest["metadata"]["namespace"] == "team"


def test_empty_settings_are_the_step_s_environment(monkeypatch):
    monkeypatch.setenv("MINIO_ENDPOINT", "minio.example:9000")
    monkeypatch.setenv("MINIO_BUCKET", "other")
    manifest = as_manifest(custom(store_endpoint="", namespace=""))
    (container,) = manifest["spec"]["predictor"]["containers"]
    environment = {variable["name"]: variable.get("value") for variable in container["env"]}
    assert environment["MINIO_ENDPOINT"] == "minio.example:9000" and environment["MINIO_BUCKET"] == "other"
    assert manifest["metadata"]["namespace"] == "default"  # outside a pod


def test_a_missing_endpoint_or_an_unknown_runtime_is_one_clear_error(monkeypatch):
    monkeypatch.delenv("MINIO_ENDPOINT", raising=False)
    with pytest.raises(ServingError, match="store's endpoint"):
        custom(store_endpoint="")
    with pytest.raises(ServingError, match="unknown serving runtime 'triton'"):
        service_for_run("triton", "mnist", RUN_ID, image=IMAGE, secret=None, namespace="kubeflow")


def test_the_docs_show_what_the_step_applies():
    documents = [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", DOCS.read_text(), re.DOTALL)]
    services = {document["metadata"]["name"]: document for document in documents
                if document.get("kind") == "InferenceService"}
    assert services["mnist"] == through_the_sdk(services["mnist"]) == as_manifest(custom())
    tensorflow = as_manifest(service_for_run("tensorflow", "mnist-tf", RUN_ID, image=IMAGE, secret=None,
                                             store_bucket="mnist", namespace="kubeflow"))
    assert services["mnist-tf"] == through_the_sdk(services["mnist-tf"]) == tensorflow


# ---------------------------------------------------------------- applied to a stand-in Kubernetes API


class FakeKubernetes(JsonApi):
    """InferenceServices kept in a dict, behind the custom-objects routes the kserve SDK calls."""

    services: ClassVar[dict[str, dict]] = {}
    calls: ClassVar[list[str]] = []

    def do_GET(self):
        self.calls.append(f"GET {self.path}")
        name = self.path.rsplit("/", 1)[-1]
        if name in self.services:
            self.answer(self.services[name])
        else:
            self.answer({"kind": "Status", "code": 404, "reason": "NotFound"}, 404)

    def do_POST(self):
        self.store(201)

    def do_PUT(self):
        self.store(200)

    def store(self, status: int) -> None:
        self.calls.append(f"{self.command} {self.path}")
        body = self.body()
        version = int(self.services.get(body["metadata"]["name"], {}).get("metadata", {}).get("resourceVersion", 0))
        body["metadata"]["resourceVersion"] = str(version + 1)
        self.services[body["metadata"]["name"]] = body
        self.answer(body, status)


@pytest.fixture
def kubernetes(tmp_path, monkeypatch):
    """The stand-in API, and a kubeconfig for it where the kubernetes client looks for one."""
    FakeKubernetes.services, FakeKubernetes.calls = {}, []
    with serving(FakeKubernetes) as url:
        kubeconfig = {
            "apiVersion": "v1", "kind": "Config", "current-context": "test",
            "clusters": [{"name": "test", "cluster": {"server": url}}],
            "users": [{"name": "test", "user": {"token": "test-token"}}],
            "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test", "namespace": "kubeflow"}}],
        }
        (tmp_path / ".kube").mkdir()
        (tmp_path / ".kube" / "config").write_text(yaml.safe_dump(kubeconfig))
        monkeypatch.setenv("HOME", str(tmp_path))  # ~/.kube/config: the kubernetes client read $KUBECONFIG on import
        monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
        yield FakeKubernetes


def test_deploy_creates_the_service_then_replaces_it(kubernetes):
    route = "/apis/serving.kserve.io/v1beta1/namespaces/kubeflow/inferenceservices"
    assert deploy(custom()) == "created"
    assert kubernetes.calls == [f"GET {route}/mnist", f"POST {route}"]
    assert kubernetes.services["mnist"]["spec"] == as_manifest(custom())["spec"]

    kubernetes.calls.clear()
    assert deploy(custom(image="registry.example.org/you/mnist-studio:0.2.0")) == "updated"
    assert kubernetes.calls[0] == f"GET {route}/mnist" and kubernetes.calls[-1] == f"PUT {route}/mnist"
    assert kubernetes.services["mnist"]["spec"]["predictor"]["containers"][0]["image"].endswith(":0.2.0")


# ---------------------------------------------------------------- the SavedModel


def test_the_saved_model_lands_in_a_numbered_version_folder_and_predicts_like_the_model(tmp_path, tiny_model,
                                                                                           run_records):
    import tensorflow as tf

    store = LocalStore(tmp_path / "store")
    run_id = store.save_run(tiny_model, **run_records).run_id
    location = export_saved_model(tiny_model, store, run_id)
    folder = tmp_path / "store" / "runs" / run_id / "saved_model" / "1"
    assert location == str(folder) and (folder / "saved_model.pb").is_file()
    assert store.get_run(run_id)["run_id"] == run_id and [run.run_id for run in store.list_runs()] == [run_id]

    images = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    served = tf.saved_model.load(str(folder)).signatures["serving_default"]
    (outputs,) = served(tf.constant(images)).values()
    assert np.allclose(outputs.numpy(), tiny_model(images).numpy(), atol=1e-6)
