"""The one progress line the CLI, the pipeline's training step and the Train page show."""

from __future__ import annotations

from mnist_core.train import TrainEvent


def test_a_batch_line_shows_where_training_is_and_how_long_is_left():
    event = TrainEvent("batch", 2, 5, 30, 430, 12.34, 5123.4, 61.6, loss=0.12345, accuracy=0.9612)
    assert event.progress_line() == "epoch 2/5  batch 30/430  loss 0.1235  acc 0.9612  5,123 img/s  eta 62s"


def test_an_epoch_line_adds_validation_and_time():
    event = TrainEvent("epoch", 1, 5, 430, 430, 12.34, 5123.4, 0.0, 0.2, 0.94, 0.08, 0.9751)
    assert event.progress_line() == (
        "epoch 1/5  loss 0.2000  acc 0.9400  val_loss 0.0800  val_acc 0.9751  12.3s  5,123 img/s"
    )


def test_a_batch_before_keras_reports_metrics_still_has_a_line():
    event = TrainEvent("batch", 1, 5, 1, 430, 0.2, 320.0, 134.0)
    assert event.progress_line() == "epoch 1/5  batch 1/430  320 img/s  eta 134s"
