"""The learning loop for real: the S3 server (up, down, two writers), the feedback CLI, training on examples."""

from __future__ import annotations

import csv
import json
import socket
import threading
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from mnist_core import cli, config
from mnist_core.data import MnistSplits, Split
from mnist_core.feedback import FeedbackStore
from mnist_core.feedback.entries import EXAMPLES, PREDICTIONS
from mnist_core.store import get_store

ASSETS = config.ASSETS_DIR


def run_cli(capsys, *arguments: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(arguments))
    except SystemExit as exit_:  # argparse refusing an argument
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def dead_endpoint() -> str:
    """A loopback port where nothing listens: a MinIO that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


def test_a_correction_made_while_the_server_is_down_is_spooled_then_synced(make_minio_store, tmp_path):
    bucket = "feedback-outage"
    down = FeedbackStore(make_minio_store(dead_endpoint(), bucket=bucket, spool_dir=tmp_path / "spool"))
    up = FeedbackStore(make_minio_store(bucket=bucket, spool_dir=tmp_path / "spool"))
    image = np.zeros((28, 28), np.float32)
    image[5:23, 13:15] = 1.0

    entry, stored = down.add_example(image, 1, source="canvas")
    assert not stored and len(down.spooled()) == 1
    assert up.entries(EXAMPLES) == []

    report = up.sync()
    assert report.uploaded == [entry.id] and not report.pending
    assert up.spooled() == []
    assert up.entries(EXAMPLES) == [entry]


def test_the_next_write_after_an_outage_sends_what_waited(make_minio_store, tmp_path):
    bucket = "feedback-resend"
    down = FeedbackStore(make_minio_store(dead_endpoint(), bucket=bucket, spool_dir=tmp_path / "spool"))
    up = FeedbackStore(make_minio_store(bucket=bucket, spool_dir=tmp_path / "spool"))
    image = np.eye(28, dtype=np.float32)
    waited, _ = down.add_example(image, 7, source="upload")
    later, stored = up.add_example(image, 4, source="upload")
    assert stored
    assert {entry.id for entry in up.entries(EXAMPLES)} == {waited.id, later.id}


def test_two_tabs_correcting_at_once_both_land_on_the_server(make_minio_store):
    store = make_minio_store()
    barrier = threading.Barrier(2)
    image = np.eye(28, dtype=np.float32)

    def correct(label: int) -> None:
        feedback = FeedbackStore(store)  # each tab has its own, over the one server
        barrier.wait()
        feedback.add_example(image, label, source="canvas")

    threads = [threading.Thread(target=correct, args=(label,)) for label in (1, 7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(entry.label for entry in FeedbackStore(store).entries(EXAMPLES)) == [1, 7]


def test_a_deleted_example_is_gone_from_the_server_and_the_next_snapshot(make_minio_store):
    feedback = FeedbackStore(make_minio_store())
    kept, _ = feedback.add_example(np.eye(28, dtype=np.float32), 3, source="upload")
    gone, _ = feedback.add_example(np.fliplr(np.eye(28, dtype=np.float32)), 5, source="upload")
    feedback.delete(gone.id)
    assert feedback.store._read(gone.key) is None
    assert feedback.snapshot().ids == (kept.id,)


# ---------------------------------------------------------------- the CLI


@pytest.fixture
def blank_png(tmp_path):
    path = tmp_path / "blank.png"
    Image.new("L", (120, 120), 255).save(path)
    return path


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["--label", "10"], "must be a digit 0-9"),
        (["--label", "x"], "must be a digit 0-9"),
        (["BLANK"], "no digit"),
        (["TEXT"], "not an image"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_is_written(store_env, capsys, blank_png, tmp_path, arguments,
                                                             fragment):
    text = tmp_path / "notes.png"
    text.write_text("not a picture\n")
    files = [str(ASSETS / "img1.jpg")]
    replaced = [{"BLANK": str(blank_png), "TEXT": str(text)}.get(argument, argument) for argument in arguments]
    if "--label" not in replaced:
        replaced += ["--label", "3"]
    code, out, err = run_cli(capsys, "feedback", "add", *files, *replaced)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and fragment in err.lower()
    assert FeedbackStore(get_store()).entries(EXAMPLES) == []
    assert not (store_env / EXAMPLES).exists()


def test_add_list_export_delete_from_the_command_line(store_env, capsys, tmp_path):
    code, out, _ = run_cli(capsys, "feedback", "add", str(ASSETS / "img1.jpg"), "--label", "3", "--json")
    assert code == 0
    added = json.loads(out)
    assert (added["label"], added["digit"], added["source"], added["spooled"]) == (3, 3, "cli", False)

    code, out, _ = run_cli(capsys, "feedback", "list", "--json")
    assert [entry["id"] for entry in json.loads(out)] == [added["id"]]

    code, out, _ = run_cli(capsys, "feedback", "export", str(tmp_path / "exported"))
    assert code == 0 and "1 labelled example" in out
    rows = list(csv.DictReader((tmp_path / "exported" / "labels.csv").open()))
    assert [(row["label"], row["predicted"]) for row in rows] == [("3", "3")]
    assert (tmp_path / "exported" / rows[0]["file"]).is_file()

    code, out, _ = run_cli(capsys, "feedback", "delete", added["id"])
    assert code == 0 and added["id"] in out
    code, out, _ = run_cli(capsys, "feedback", "list")
    assert "no labelled examples" in out
    code, _, err = run_cli(capsys, "feedback", "delete", added["id"])
    assert code == 2 and "no feedback entry" in err


def test_predict_log_keeps_the_prediction(store_env, capsys):
    code, out, _ = run_cli(capsys, "predict", str(ASSETS / "img1.jpg"), "--log", "--json")
    assert code == 0 and json.loads(out)["digit"] == 3
    code, out, _ = run_cli(capsys, "feedback", "list", "--predictions", "--json")
    [entry] = json.loads(out)
    assert (entry["digit"], entry["source"], entry["name"]) == (3, "cli", "img1.jpg")
    assert entry["model"] == "bundled baseline"


def test_predict_without_log_keeps_nothing(store_env, capsys):
    assert run_cli(capsys, "predict", str(ASSETS / "img1.jpg"))[0] == 0
    assert FeedbackStore(get_store()).entries(PREDICTIONS) == []


# ---------------------------------------------------------------- training with the examples


@pytest.fixture
def small_splits(mnist_splits) -> MnistSplits:
    """A few thousand MNIST images: enough to train in seconds, not to be good."""
    def head(split: Split, count: int) -> Split:
        return Split(split.images[:count], split.labels[:count])

    train, validation, test = mnist_splits.train, mnist_splits.validation, mnist_splits.test
    return MnistSplits(head(train, 3000), head(validation, 500), head(test, 1000))


@pytest.mark.parametrize("strategy", ["retrain", "finetune"])
def test_a_run_trained_with_feedback_records_its_snapshot_and_reads_with_predict_model(
    store_env, capsys, mnist_splits, small_splits, strategy
):
    from mnist_core.feedback.training import FeedbackPlan
    from mnist_core.runs import train_evaluate_save

    store = get_store()
    feedback = FeedbackStore(store)
    for image, label in zip(mnist_splits.test.images[-40:], mnist_splits.test.labels[-40:], strict=True):
        feedback.add_example(image.astype(np.float32) / 255, int(label), source="upload")
    snapshot = feedback.snapshot()
    preset = replace(config.get_preset("fast"), batch_size=128)
    outcome = train_evaluate_save(preset, small_splits, store=store, feedback=FeedbackPlan(snapshot, strategy))

    summary = outcome.summary
    assert summary.feedback_examples == 40
    assert store.list_runs()[0].feedback_examples == 40  # in the run's manifest: `store list` shows it
    assert 0.0 <= summary.feedback_accuracy <= 1.0
    run = store.get_run(summary.run_id)
    assert run["params"]["feedback"] == {**snapshot.record(), "strategy": strategy,
                                         **({"base_model": "bundled baseline"} if strategy == "finetune" else {})}
    held_out = run["evaluation"]["feedback"]
    assert held_out["evaluated"] == snapshot.record()["held_out"] == len(held_out["predicted"])
    assert held_out["accuracy"] == pytest.approx(
        np.mean(np.array(held_out["predicted"]) == snapshot.evaluation[1]), abs=1e-5
    )
    if strategy == "finetune":  # the bundled model, tuned: still reads MNIST
        assert summary.test_accuracy > 0.95

    code, out, _ = run_cli(capsys, "predict", str(ASSETS / "img1.jpg"), "--model", summary.run_id, "--json")
    assert code == 0 and "digit" in json.loads(out)


def test_train_feedback_without_examples_is_one_line(store_env, capsys):
    code, out, err = run_cli(capsys, "train", "--preset", "fast", "--feedback")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "no labelled examples" in err


def test_the_pipeline_steps_carry_the_examples_from_get_data_batch_to_training(store_env, tmp_path):
    from types import SimpleNamespace

    from mnist_core import pipeline
    from mnist_core.pipeline_steps import arrays_to_feedback, load_step_arrays

    feedback = FeedbackStore(get_store())
    for label in (1, 1, 7, 7):
        feedback.add_example(np.eye(28, dtype=np.float32) * (label + 1) / 8, label, source="upload")
    (tmp_path / "artifacts").mkdir()
    splits, reshaped = (SimpleNamespace(name=name, path=str(tmp_path / "artifacts" / name), metadata={})
                        for name in ("splits", "reshaped"))

    pipeline.get_data_batch(seed=config.DEFAULT_SEED, feedback=True, store_endpoint="", store_bucket="",
                            splits=splits)
    assert splits.metadata["feedback"] == feedback.snapshot().record()
    pipeline.reshape_data(store_endpoint="", store_bucket="", splits=splits, reshaped=reshaped)
    arrived = arrays_to_feedback(load_step_arrays(reshaped, get_store()))
    assert arrived.sha256 == feedback.snapshot().sha256  # what model_building learns from

    without = SimpleNamespace(name="splits", path=str(tmp_path / "artifacts" / "plain"), metadata={})
    pipeline.get_data_batch(seed=config.DEFAULT_SEED, feedback=False, store_endpoint="", store_bucket="",
                            splits=without)
    assert arrays_to_feedback(load_step_arrays(without, get_store())) is None
