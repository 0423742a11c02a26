"""KServe InferenceServices for a trained run, built with the ``kserve`` SDK's types, and applied to a cluster.

Two ways to serve a run:

* ``mnist-studio`` (the default): a custom predictor, this project's image running
  ``python -m mnist_core serve``; it reads the run's model from the store with the same credentials
  secret as the pipeline, and takes pictures (preprocessing included), over v1 and v2;
* ``tensorflow``: KServe's standard TensorFlow Serving runtime on the run's SavedModel
  (``runs/<id>/saved_model/1/``, written by the pipeline); it takes 28x28x1 tensors, not pictures, and
  its storage initializer reads S3 credentials from a service account (see docs/KUBEFLOW.md).

The pipeline's ``model_serving`` step calls :func:`deploy`; the tests check the manifests against the
SDK's types without a cluster.
"""

from __future__ import annotations

import os
from pathlib import Path

from mnist_core.errors import MnistError
from mnist_core.model_server import DEFAULT_PORT, MODEL_NAME
from mnist_core.pipeline_steps import SECRET_KEYS
from mnist_core.store import DEFAULT_BUCKET

RUNTIMES = ("mnist-studio", "tensorflow")
SAVED_MODEL_FOLDER = "saved_model"  # runs/<id>/saved_model/<version>/, the layout TensorFlow Serving expects
SAVED_MODEL_VERSION = 1
STORE_READER_ACCOUNT = "mnist-store-reader"  # the service account the TensorFlow runtime's storage initializer uses
NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
API_VERSION = "serving.kserve.io/v1beta1"
LABELS = {"app.kubernetes.io/part-of": "mnist-studio"}
RUN_ANNOTATION = "mnist-studio/run-id"


class ServingError(MnistError):
    """An InferenceService could not be made or applied."""


def service_for_run(runtime: str, name: str, run_id: str, *, image: str, secret: str | None,
                    store_endpoint: str = "", store_bucket: str = "", namespace: str = ""):
    """The InferenceService the ``model_serving`` step applies: ``runtime`` is one of :data:`RUNTIMES`.

    Empty store settings and namespace are the step's own: ``MINIO_ENDPOINT``, ``MINIO_BUCKET``, its pod's.
    """
    namespace = namespace or current_namespace()
    store_endpoint = store_endpoint or os.environ.get("MINIO_ENDPOINT", "")
    store_bucket = store_bucket or os.environ.get("MINIO_BUCKET", "")
    if runtime == "tensorflow":
        return tensorflow_service(name, namespace, run_id, store_bucket=store_bucket)
    if runtime == "mnist-studio":
        return custom_predictor_service(name, namespace, run_id, image=image, secret=secret,
                                        store_endpoint=store_endpoint, store_bucket=store_bucket)
    raise ServingError(f"unknown serving runtime {runtime!r}; expected one of {', '.join(RUNTIMES)}")


def custom_predictor_service(name: str, namespace: str, run_id: str, *, image: str, secret: str | None,
                             store_endpoint: str, store_bucket: str):
    """The InferenceService whose predictor is this project's image running ``python -m mnist_core serve``."""
    from kserve import V1beta1PredictorSpec
    from kubernetes.client import (
        V1Container,
        V1ContainerPort,
        V1EnvVar,
        V1EnvVarSource,
        V1HTTPGetAction,
        V1Probe,
        V1ResourceRequirements,
        V1SecretKeySelector,
    )

    if not store_endpoint:
        raise ServingError("the model server needs the store's endpoint to read the model; set store_endpoint")
    environment = [V1EnvVar(name="MINIO_ENDPOINT", value=store_endpoint)]
    if store_bucket:
        environment.append(V1EnvVar(name="MINIO_BUCKET", value=store_bucket))
    if secret:
        environment += [
            V1EnvVar(name=key, value_from=V1EnvVarSource(secret_key_ref=V1SecretKeySelector(name=secret, key=key)))
            for key in SECRET_KEYS
        ]
    ready = V1Probe(http_get=V1HTTPGetAction(path=f"/v2/models/{MODEL_NAME}/ready", port=DEFAULT_PORT),
                    period_seconds=5)
    container = V1Container(
        name="kserve-container",
        image=image,
        command=["python", "-m", "mnist_core", "serve"],
        args=["--model", run_id, "--host", "0.0.0.0", "--port", str(DEFAULT_PORT)],
        env=environment,
        ports=[V1ContainerPort(container_port=DEFAULT_PORT, protocol="TCP")],
        readiness_probe=ready,
        resources=V1ResourceRequirements(requests={"cpu": "1", "memory": "1Gi"}, limits={"memory": "2Gi"}),
    )
    predictor = V1beta1PredictorSpec(containers=[container], min_replicas=1, max_replicas=4,
                                     scale_metric="concurrency", scale_target=16)
    return _service(name, namespace, run_id, predictor)


def tensorflow_service(name: str, namespace: str, run_id: str, *, store_bucket: str):
    """The InferenceService serving the run's SavedModel with KServe's standard TensorFlow runtime."""
    from kserve import V1beta1ModelFormat, V1beta1ModelSpec, V1beta1PredictorSpec

    model = V1beta1ModelSpec(name="kserve-container", model_format=V1beta1ModelFormat(name="tensorflow"),
                             storage_uri=f"s3://{store_bucket or DEFAULT_BUCKET}/runs/{run_id}/{SAVED_MODEL_FOLDER}")
    predictor = V1beta1PredictorSpec(model=model, service_account_name=STORE_READER_ACCOUNT, min_replicas=1)
    return _service(name, namespace, run_id, predictor)


def _service(name: str, namespace: str, run_id: str, predictor):
    from kserve import V1beta1InferenceService, V1beta1InferenceServiceSpec
    from kubernetes.client import V1ObjectMeta

    metadata = V1ObjectMeta(name=name, namespace=namespace, labels=LABELS, annotations={RUN_ANNOTATION: run_id})
    return V1beta1InferenceService(api_version=API_VERSION, kind="InferenceService", metadata=metadata,
                                   spec=V1beta1InferenceServiceSpec(predictor=predictor))


def as_manifest(service) -> dict:
    """The service as the JSON Kubernetes receives (camelCase keys, no empty fields)."""
    from kserve import ApiClient

    return ApiClient().sanitize_for_serialization(service)


def current_namespace() -> str:
    """The namespace this pod runs in (a pipeline step's), or ``default`` outside a cluster."""
    return NAMESPACE_FILE.read_text().strip() if NAMESPACE_FILE.is_file() else "default"


def deploy(service) -> str:
    """Create the InferenceService, or replace the one of that name; returns ``created`` or ``updated``."""
    from kserve import KServeClient
    from kubernetes.client.rest import ApiException

    client = KServeClient()
    name, namespace = service.metadata.name, service.metadata.namespace
    group, version = API_VERSION.split("/")
    try:
        client.api_instance.get_namespaced_custom_object(group, version, namespace, "inferenceservices", name)
    except ApiException as error:
        if error.status != 404:
            raise ServingError(f"cannot read InferenceService {namespace}/{name} ({error.status} {error.reason})") \
                from None
        client.create(service, namespace=namespace)
        return "created"
    client.replace(name, service, namespace=namespace)
    return "updated"
