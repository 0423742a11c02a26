"""The Kubeflow pipeline: ``get_data_batch`` -> ``reshape_data`` -> ``model_building`` [-> ``model_serving``].

Each step is a lightweight KFP component: a function whose body imports mnist_core and calls the
same code as the CLI and the app, run in the image built from the project's Dockerfile. Steps hand
data to each other through the store (``data/<name>.npz``), and say where through typed ``Dataset``
artifacts. ``model_building`` saves a run like any other (the app's Runs page and ``store list``
show it), exports it as a TensorFlow SavedModel beside it, and gives Kubeflow a ``Model``, ``Metrics``
and ``ClassificationMetrics`` to display. With the ``deploy`` parameter on, ``model_serving`` then creates
or updates a KServe InferenceService serving that run (see mnist_core.inference_service).

Store settings: the endpoint and bucket are pipeline parameters (left empty, the step's environment
decides, as everywhere else); the keys always come from the environment, which on a cluster is filled
from a Kubernetes secret, so they never appear in parameters, in the compiled YAML or in the UI.

This module imports KFP but not TensorFlow: the steps import what they need when they run.
"""

# No ``from __future__ import annotations``: KFP reads the components' type annotations as types.

import os
import re
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable
from pathlib import Path

from kfp import compiler, dsl
from kfp.dsl import ClassificationMetrics, Dataset, Input, Metrics, Model, Output

from mnist_core import config
from mnist_core.errors import MnistError
from mnist_core.pipeline_steps import SECRET_KEYS

DEFAULT_IMAGE = "mnist-studio:latest"
DEFAULT_SECRET = "mnist-store"
DEFAULT_SERVICE = "mnist"
DEFAULT_RUNTIME = "mnist-studio"
PIPELINE_NAME = "mnist-studio"
HOST_TIMEOUT_SECONDS = 5.0


class PipelineError(MnistError):
    """The pipeline could not be run or submitted."""


# ---------------------------------------------------------------- the steps
#
# KFP copies each function's source, and nothing else, into the step's container: a step uses only what
# it imports in its body, and imports its helpers from mnist_core.pipeline_steps (this module's KFP
# compiler import breaks inside KFP's executor).


def get_data_batch(seed: int, feedback: bool, store_endpoint: str, store_bucket: str, splits: Output[Dataset]):
    """Load MNIST, validate it and split it into train, validation and test; store the splits.

    With ``feedback``, the labelled examples in the store go along too, frozen as one snapshot.
    """
    from mnist_core import data
    from mnist_core.feedback import FeedbackStore
    from mnist_core.pipeline_steps import (
        feedback_to_arrays,
        new_batch_id,
        open_store,
        save_step_arrays,
        splits_to_arrays,
    )

    loaded, report = data.get_data_batch(seed=seed)
    for check in report.checks:
        print(f"ok   {check.name:<24} {check.detail}", flush=True)
    splits.metadata["validation"] = report.to_dict()
    store = open_store(store_endpoint, store_bucket)
    arrays = splits_to_arrays(loaded)
    if feedback:
        snapshot = FeedbackStore(store).snapshot()
        splits.metadata["feedback"] = snapshot.record()
        print(f"feedback: {snapshot.record()}", flush=True)
        arrays |= feedback_to_arrays(snapshot)
    save_step_arrays(splits, store, new_batch_id(), "splits", arrays)


def reshape_data(store_endpoint: str, store_bucket: str, splits: Input[Dataset], reshaped: Output[Dataset]):
    """Reshape every split's images to (N, 28, 28, 1), still uint8 (training scales them); store them."""
    from mnist_core import data
    from mnist_core.pipeline_steps import load_step_arrays, open_store, save_step_arrays

    store = open_store(store_endpoint, store_bucket)
    arrays = load_step_arrays(splits, store)
    for key in [key for key in arrays if key.endswith("_images")]:
        arrays[key] = data.reshape_data(arrays[key])
    save_step_arrays(reshaped, store, splits.metadata["batch"], "reshaped", arrays)


def model_building(
    preset: str,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    seed: int,
    store_endpoint: str,
    store_bucket: str,
    reshaped: Input[Dataset],
    model: Output[Model],
    metrics: Output[Metrics],
    confusion: Output[ClassificationMetrics],
) -> str:
    """Build the preset's CNN, train it, evaluate it on the test set, save it as a run; returns the run id.

    ``epochs``, ``batch_size`` and ``learning_rate`` of 0 keep the preset's own values.
    """
    import json
    from pathlib import Path

    from mnist_core import config
    from mnist_core.errors import StoreError
    from mnist_core.feedback.training import FeedbackPlan
    from mnist_core.pipeline_steps import (
        arrays_to_feedback,
        arrays_to_splits,
        export_saved_model,
        load_step_arrays,
        open_store,
        print_epoch,
    )
    from mnist_core.runs import train_evaluate_save

    chosen = config.get_preset(
        preset, epochs=epochs or None, batch_size=batch_size or None, learning_rate=learning_rate or None, seed=seed
    )
    store = open_store(store_endpoint, store_bucket)
    arrays = load_step_arrays(reshaped, store)
    snapshot = arrays_to_feedback(arrays)
    plan = FeedbackPlan(snapshot) if snapshot is not None else None
    outcome = train_evaluate_save(chosen, arrays_to_splits(arrays), store=store, on_event=print_epoch, feedback=plan)
    summary = outcome.summary
    if summary.spooled:  # a spool inside a finished pod is lost with it
        raise StoreError(summary.message)
    print(json.dumps(summary.to_dict()), flush=True)

    run_id = summary.run_id
    saved_model = export_saved_model(outcome.result.model, store, run_id)
    print(f"SavedModel for TensorFlow Serving: {saved_model}", flush=True)
    Path(model.path).write_bytes(store.model_bytes(run_id))  # the stored model.keras, checksum verified
    model.metadata.update({"run_id": run_id, "location": summary.location, "format": "keras", "preset": chosen.name,
                           "saved_model": saved_model})
    metrics.log_metric("test_accuracy", summary.test_accuracy)
    metrics.log_metric("test_loss", summary.test_loss)
    metrics.log_metric("train_seconds", summary.train_seconds)
    metrics.log_metric("epochs", summary.epochs)
    if plan is not None:
        metrics.log_metric("feedback_examples", summary.feedback_examples)
        metrics.log_metric("feedback_accuracy", summary.feedback_accuracy)
    confusion.log_confusion_matrix(
        [str(digit) for digit in range(config.NUM_CLASSES)], outcome.evaluation["confusion_matrix"]
    )
    return run_id


def model_serving(run_id: str, runtime: str, service_name: str, image: str, secret: str, store_endpoint: str,
                  store_bucket: str) -> str:
    """Create or update the InferenceService serving ``run_id`` in this step's namespace; returns namespace/name.

    ``runtime``: ``mnist-studio`` (this image's model server, pictures in) or ``tensorflow`` (KServe's
    TensorFlow runtime on the run's SavedModel, tensors in).
    """
    import json

    from mnist_core.inference_service import as_manifest, deploy, service_for_run

    service = service_for_run(runtime, service_name, run_id, image=image, secret=secret or None,
                              store_endpoint=store_endpoint, store_bucket=store_bucket)
    print(json.dumps(as_manifest(service)), flush=True)
    where = f"{service.metadata.namespace}/{service.metadata.name}"
    print(f"{deploy(service)} InferenceService {where} for run {run_id}", flush=True)
    return where


# ---------------------------------------------------------------- the pipeline


def use_secret_as_env(task: dsl.PipelineTask, secret: str, keys: tuple[str, ...]) -> None:
    """Fill the step's environment variables ``keys`` from the Kubernetes secret's keys of the same names.

    This writes what kfp-kubernetes' ``use_secret_as_env`` writes (``secretName`` for older backends,
    ``secretNameParameter`` for newer ones), without needing that package.
    """
    kubernetes = task.platform_config.setdefault("kubernetes", {})
    kubernetes.setdefault("secretAsEnv", []).append(
        {
            "secretName": secret,
            "secretNameParameter": {"runtimeValue": {"constant": secret}},
            "keyToEnv": [{"secretKey": key, "envVar": key} for key in keys],
        }
    )


def build_pipeline(image: str = DEFAULT_IMAGE, secret: str | None = DEFAULT_SECRET) -> Callable:
    """The pipeline with its steps running in ``image`` and the store keys from the Kubernetes ``secret``.

    ``secret=None`` leaves the keys to the steps' environment (local runs).
    """

    def component(function: Callable):
        # The image already has kfp and mnist_core: nothing to pip-install when a step starts.
        return dsl.component(function, base_image=image, install_kfp_package=False)

    load_step, reshape_step, training_step, serving_step = map(
        component, (get_data_batch, reshape_data, model_building, model_serving)
    )

    @dsl.pipeline(
        name=PIPELINE_NAME,
        description="MNIST: get_data_batch -> reshape_data -> model_building, then model_serving if deploy is on.",
    )
    def mnist_pipeline(
        preset: str = "fast",
        epochs: int = 0,
        batch_size: int = 0,
        learning_rate: float = 0.0,
        seed: int = config.DEFAULT_SEED,
        feedback: bool = False,
        store_endpoint: str = "",
        store_bucket: str = "",
        deploy: bool = False,
        service_name: str = DEFAULT_SERVICE,
        serving_runtime: str = DEFAULT_RUNTIME,
    ) -> str:
        store = {"store_endpoint": store_endpoint, "store_bucket": store_bucket}
        loading = load_step(seed=seed, feedback=feedback, **store)
        reshaping = reshape_step(splits=loading.outputs["splits"], **store)
        training = training_step(
            reshaped=reshaping.outputs["reshaped"],
            preset=preset,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            seed=seed,
            **store,
        )
        tasks = [loading, reshaping, training]
        with dsl.If(deploy == True, name="deploy"):  # noqa: E712 (KFP builds the condition from ==)
            serving = serving_step(run_id=training.outputs["Output"], runtime=serving_runtime,
                                   service_name=service_name, image=image, secret=secret or "", **store)
            tasks.append(serving)
        for task in tasks:
            task.set_caching_options(False)  # the steps write to the store or the cluster, which KFP's cache cannot see
            if secret:
                use_secret_as_env(task, secret, SECRET_KEYS)
        return training.outputs["Output"]

    return mnist_pipeline


def pipeline_arguments(
    preset: str,
    epochs: int | None = None,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    seed: int | None = None,
    store_endpoint: str = "",
    store_bucket: str = "",
    deploy: bool = False,
    feedback: bool = False,
) -> dict:
    """The pipeline's arguments, checked here so a bad value fails before any step starts."""
    preset_checked = config.get_preset(
        preset, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed
    )
    return {
        "preset": preset,
        "epochs": epochs or 0,
        "batch_size": batch_size or 0,
        "learning_rate": learning_rate or 0.0,
        "seed": preset_checked.seed,
        "feedback": feedback,
        "store_endpoint": store_endpoint,
        "store_bucket": store_bucket,
        "deploy": deploy,
    }


def compile_pipeline(path: str | Path, image: str = DEFAULT_IMAGE, secret: str | None = DEFAULT_SECRET) -> Path:
    """Write the pipeline as YAML for a cluster; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    compiler.Compiler().compile(pipeline_func=build_pipeline(image, secret), package_path=str(path))
    return path


def run_locally(arguments: dict, pipeline_root: str | Path) -> str:
    """Run the whole pipeline on this machine, each step a subprocess of this Python; returns the run id.

    Step logs go to stdout as they come; KFP's local artifacts are written under ``pipeline_root``.
    """
    from kfp import local

    # The steps import mnist_core from this checkout, whether or not it is installed.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, (str(config.PROJECT_ROOT), os.environ.get("PYTHONPATH"))))
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(pipeline_root))
    with warnings.catch_warnings():
        # The image is for the cluster; locally the steps run in this Python, as intended.
        warnings.filterwarnings("ignore", message=".*non-Python base image", category=RuntimeWarning)
        try:
            finished = build_pipeline(secret=None)(**arguments)
        except RuntimeError as exc:  # kfp.local's "task failed"; the step's own log is above it
            message = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).splitlines()[0]  # without the terminal colours
            raise PipelineError(f"the local pipeline run failed: {message} (its log is above)") from None
    return finished.output


def submit(host: str, arguments: dict, *, image: str, secret: str | None, experiment: str) -> str:
    """Send the pipeline to the Kubeflow Pipelines API at ``host``; returns the Kubeflow run id."""
    _check_reachable(host)
    import kfp
    import urllib3
    from kfp_server_api import ApiException

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # kfp.Client's notice about server versions
        try:
            client = kfp.Client(host=host)
            result = client.create_run_from_pipeline_func(
                build_pipeline(image, secret), arguments=arguments, experiment_name=experiment
            )
        except ApiException as exc:
            raise PipelineError(f"Kubeflow Pipelines at {host} refused the run ({exc.status} {exc.reason})") from None
        except (urllib3.exceptions.HTTPError, OSError, TimeoutError) as exc:
            raise PipelineError(f"Kubeflow Pipelines at {host} is unreachable ({exc.__class__.__name__})") from None
    return result.run_id


def _check_reachable(host: str) -> None:
    """Fail in seconds, with one line, when nothing answers at ``host``: kfp.Client retries for minutes."""
    if not host.startswith(("http://", "https://")):
        raise PipelineError(f"the host must be an http:// or https:// URL, got {host[:80]!r}")
    try:
        with urllib.request.urlopen(f"{host.rstrip('/')}/apis/v2beta1/healthz", timeout=HOST_TIMEOUT_SECONDS):
            return
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):  # something answers, and it wants a login: kfp.Client's business
            return
        raise PipelineError(
            f"{host} answered {exc.code} to the Kubeflow Pipelines health check; is it the pipelines API?"
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PipelineError(f"Kubeflow Pipelines at {host} is unreachable ({reason})") from None
