"""The command line as a user runs it: real processes, real data, real exit codes."""

from __future__ import annotations

import json
import subprocess

import pytest

from mnist_core.precision import resolve_precision
from tests.support.processes import run_cli


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_data_reports_validation_and_split_counts():
    result = run_cli("data", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["validation"]["ok"] is True
    assert {name: split["images"] for name, split in report["splits"].items()} == {
        "train": 54_000, "validation": 6_000, "test": 10_000
    }
    readable = run_cli("data")
    assert "train count" in readable.stdout and "54000" in readable.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["train", "--preset", "nope"], "invalid choice"),
        (["train", "--preset", "fast", "--epochs", "0"], "at least 1"),
        (["train", "--preset", "fast", "--epochs", "two"], "whole number"),
        (["train", "--preset", "fast", "--learning-rate", "5"], "learning rate"),
        (["train", "--preset", "fast", "--seed", "-3"], "--seed"),
        (["train", "--preset", "fast", "--precision", "float16"], "--precision"),
        (["train"], "--preset"),
        (["frobnicate"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(args, fragment):
    assert_one_line_error(run_cli(*args), fragment)


def test_missing_data_file_is_one_line(tmp_path):
    result = run_cli("data", env={"MNIST_NPZ": str(tmp_path / "missing.npz")})
    assert_one_line_error(result, "MNIST_NPZ", "missing.npz")


def test_corrupt_data_file_is_one_line(tmp_path):
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"\x00" * 100)
    assert_one_line_error(run_cli("data", "--data", str(corrupt)), "not a readable")


def test_evaluate_rejects_a_file_that_is_not_a_model(tmp_path):
    not_a_model = tmp_path / "model.keras"
    not_a_model.write_text("hello")
    assert_one_line_error(run_cli("evaluate", str(not_a_model), "--json"), "not a Keras model")


def test_train_saves_a_run_to_s3_that_evaluate_list_and_export_can_use(store_env, moto_endpoint, tmp_path):
    """The storage issue's acceptance test: `train` with MINIO_* set puts the whole run in the bucket."""
    from minio import Minio

    s3 = {"MINIO_ENDPOINT": moto_endpoint, "MINIO_ACCESS_KEY": "cli-access", "MINIO_SECRET_KEY": "cli-secret",
          "MINIO_BUCKET": "cli-runs", "MINIO_SECURE": "false"}
    exported = tmp_path / "exported" / "model.keras"
    result = run_cli("train", "--preset", "fast", "--epochs", "1", "--export", str(exported), env=s3)
    assert result.returncode == 0, result.stderr
    assert "epoch 1/1" in result.stderr and "Traceback" not in result.stderr
    assert "cli-secret" not in result.stderr + result.stdout
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"run_id", "preset", "epochs", "test_accuracy", "train_seconds", "location"} <= summary.keys()
    assert summary["preset"] == "fast" and summary["epochs"] == 1 and summary["spooled"] is False
    assert summary["test_accuracy"] >= 0.98
    assert summary["location"] == f"s3://cli-runs/runs/{summary['run_id']}/"

    bucket = Minio(moto_endpoint, access_key="cli-access", secret_key="cli-secret", secure=False)
    objects = bucket.list_objects("cli-runs", f"runs/{summary['run_id']}/")
    stored = {item.object_name.rsplit("/", 1)[-1] for item in objects}
    assert {"model.keras", "evaluation.json", "params.json", "history.json", "manifest.json"} <= stored

    listed = json.loads(run_cli("store", "list", "--json", env=s3).stdout)
    assert [run["run_id"] for run in listed] == [summary["run_id"]]

    details = json.loads(exported.with_suffix(".json").read_text())
    assert details["evaluation"]["test_accuracy"] == summary["test_accuracy"]
    assert details["params"]["precision"] == resolve_precision("auto")  # which precision ran, not "auto"
    assert f", {resolve_precision('auto')} (Ctrl-C" in result.stderr

    evaluated = run_cli("evaluate", summary["run_id"], "--json", env=s3)
    assert evaluated.returncode == 0, evaluated.stderr
    evaluation = json.loads(evaluated.stdout)
    assert evaluation["test_accuracy"] == summary["test_accuracy"]
    matrix = evaluation["confusion_matrix"]
    assert len(matrix) == 10 and sum(map(sum, matrix)) == 10_000
    assert len(evaluation["per_class"]) == 10 and evaluation["mistakes"]

    from_file = json.loads(run_cli("evaluate", str(exported), "--json").stdout)
    assert from_file["test_accuracy"] == summary["test_accuracy"]


def test_export_needs_a_keras_file_name(store_env, tmp_path):
    result = run_cli("train", "--preset", "fast", "--epochs", "1", "--export", str(tmp_path / "model.h5"))
    assert_one_line_error(result, ".keras")
