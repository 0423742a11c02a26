"""Training: one ``train()`` for the CLI, the app and the pipeline.

It streams progress events to a callback, stops cleanly when a cancel flag is set, and is seeded.
Data stays in memory and flows through ``tf.data`` (shuffle, batch, augment, prefetch); the model
is traced once and reused by every epoch. The model trains in the preset's precision (mixed
bfloat16 where the machine has it) and comes back computing in float32, ready to save and predict.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Protocol

import keras
import numpy as np
import tensorflow as tf

from mnist_core.augment import augment_batch
from mnist_core.calibrate import fit_model_temperature
from mnist_core.config import Augmentation, Preset
from mnist_core.data import as_model_input, reshape_data
from mnist_core.models import build_model, inference_copy
from mnist_core.precision import resolve_precision

BATCH_EVENT_INTERVAL_SECONDS = 0.25
PREFETCH_BATCHES = 2  # ready while the model trains on the current one
PARALLEL_CALLS = max(2, os.cpu_count() or 1)  # batches augmented at once


class CancelFlag(Protocol):
    """Anything with ``is_set()``, such as ``threading.Event``."""

    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class TrainEvent:
    """One progress report. ``kind`` is "start", "batch", "epoch" or "end"."""

    kind: str
    epoch: int
    epochs: int
    batch: int
    batches: int
    elapsed_seconds: float
    images_per_second: float
    eta_seconds: float
    loss: float | None = None
    accuracy: float | None = None
    val_loss: float | None = None
    val_accuracy: float | None = None

    def progress_line(self) -> str:
        """Progress in one line, for terminals, logs and the Train page: the batch so far, or the epoch with its
        validation; metrics Keras has not reported yet are left out."""
        where = f"epoch {self.epoch}/{self.epochs}"
        if self.kind != "epoch":
            where += f"  batch {self.batch}/{self.batches}"
        metrics = [
            f"{name} {value:.4f}"
            for name, value in (
                ("loss", self.loss),
                ("acc", self.accuracy),
                ("val_loss", self.val_loss),
                ("val_acc", self.val_accuracy),
            )
            if value is not None
        ]
        rate = f"{self.images_per_second:,.0f} img/s"
        if self.kind == "epoch":
            timing = f"{self.elapsed_seconds:.1f}s  {rate}"
        else:
            timing = f"{rate}  eta {self.eta_seconds:.0f}s"
        return "  ".join([where, *metrics, timing])

    @property
    def fraction_done(self) -> float:
        return min(1.0, ((self.epoch - 1) * self.batches + self.batch) / (self.epochs * self.batches))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainResult:
    model: keras.Model
    preset: Preset
    history: dict[str, list[float]]
    train_seconds: float
    epochs_completed: int
    cancelled: bool
    images_per_second: float
    temperature: float = 1.0  # fitted on the validation split after training (mnist_core.calibrate)

    @property
    def params(self) -> dict:
        return {"preset": self.preset.name, **self.preset.to_dict()}

    @property
    def timings(self) -> dict:
        return {
            "train_seconds": round(self.train_seconds, 3),
            "epochs_completed": self.epochs_completed,
            "images_per_second": round(self.images_per_second, 1),
            "cancelled": self.cancelled,
        }


def make_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    shuffle_seed: int | None = None,
    augmentation: Augmentation | None = None,
) -> tf.data.Dataset:
    """In-memory batches, reshuffled every epoch when ``shuffle_seed`` is given, augmented, prefetched.

    The shuffle moves indices, and each batch gathers its images at once: cheaper than shuffling
    54,000 images one by one. uint8 images stay uint8 in memory and each batch is scaled as
    :func:`mnist_core.data.as_model_input` scales them (the same float32 values): a quarter of the
    memory, and the dataset starts 0.6 s sooner than with 170 MB of floats captured in its graph.
    Each batch is augmented with random numbers drawn from a stream seeded by ``shuffle_seed`` that
    differs every epoch, in parallel with the training step.
    """
    scaled = images.dtype == np.uint8
    images = tf.constant(reshape_data(images) if scaled else as_model_input(images))
    labels = tf.constant(labels.astype(np.int32))

    def gather(indices: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        batch = tf.gather(images, indices)
        return (tf.cast(batch, tf.float32) / 255 if scaled else batch), tf.gather(labels, indices)

    order = tf.data.Dataset.range(len(labels))
    if shuffle_seed is not None:
        order = order.shuffle(len(labels), seed=shuffle_seed, reshuffle_each_iteration=True)
    dataset = order.batch(batch_size).map(gather)
    if augmentation is not None and augmentation.active:
        seeds = tf.data.Dataset.random(seed=shuffle_seed or 0, rerandomize_each_iteration=True).batch(2)
        dataset = tf.data.Dataset.zip(dataset, seeds).map(
            lambda batch, seed: (augment_batch(batch[0], augmentation, seed), batch[1]),
            num_parallel_calls=PARALLEL_CALLS,
        )
    # Fixed sizes instead of tf.data's autotuning: ending an autotuned iterator waited 2-3 s for its
    # tuning thread in more than half of our one-epoch runs, and the fixed sizes train as fast.
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.prefetch(PREFETCH_BATCHES).with_options(options)


def learning_rate_schedule(
    preset: Preset, steps_per_epoch: int
) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """Constant, or a one-cycle shape: linear warm-up to the peak over 20% of steps, cosine down."""
    total_steps = steps_per_epoch * preset.epochs
    if preset.schedule == "constant":
        return preset.learning_rate
    warmup_steps = int(0.2 * total_steps) if preset.schedule == "onecycle" else 0
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=preset.learning_rate / 10 if warmup_steps else preset.learning_rate,
        decay_steps=max(1, total_steps - warmup_steps),
        alpha=0.01,
        warmup_target=preset.learning_rate if warmup_steps else None,
        warmup_steps=warmup_steps,
    )


def compile_model(model: keras.Model, preset: Preset, steps_per_epoch: int) -> None:
    loss = keras.losses.SparseCategoricalCrossentropy()
    if preset.label_smoothing:
        # Label smoothing needs one-hot targets; the categorical loss takes sparse ones through a wrapper.
        loss = SmoothedSparseCrossentropy(preset.label_smoothing)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate_schedule(preset, steps_per_epoch)),
        loss=loss,
        metrics=["accuracy"],
        steps_per_execution=preset.steps_per_execution,
    )


@keras.saving.register_keras_serializable(package="mnist_core")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Cross-entropy with label smoothing on integer labels."""

    def __init__(self, smoothing: float = 0.1, name: str = "smoothed_sparse_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.smoothing = smoothing

    def call(self, y_true, y_pred):
        one_hot = keras.ops.one_hot(keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32"), 10)
        return keras.losses.categorical_crossentropy(one_hot, y_pred, label_smoothing=self.smoothing)

    def get_config(self) -> dict:
        return {**super().get_config(), "smoothing": self.smoothing}


class _Progress(keras.callbacks.Callback):
    """Turns Keras callbacks into :class:`TrainEvent`s and watches the cancel flag."""

    def __init__(
        self,
        epochs: int,
        batches: int,
        batch_size: int,
        on_event: Callable[[TrainEvent], None] | None,
        cancel: CancelFlag | None,
    ):
        super().__init__()
        self.epochs, self.batches, self.batch_size = epochs, batches, batch_size
        self.on_event, self.cancel = on_event, cancel
        self.batch_curve: dict[str, list[float]] = {"epoch": [], "loss": [], "accuracy": []}
        self.epoch_seconds: list[float] = []
        self.cancelled = False
        self.images_seen = 0
        self.start = self.epoch_start = self.last_batch_event = 0.0
        self.epoch = 1

    def _emit(self, kind: str, batch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        elapsed = time.perf_counter() - self.start
        rate = self.images_seen / elapsed if elapsed > 0 else 0.0
        done = (self.epoch - 1) * self.batches + batch
        remaining = self.epochs * self.batches - done
        eta = remaining * self.batch_size / rate if rate and kind != "end" else 0.0
        event = TrainEvent(
            kind=kind,
            epoch=self.epoch,
            epochs=self.epochs,
            batch=batch,
            batches=self.batches,
            elapsed_seconds=elapsed,
            images_per_second=rate,
            eta_seconds=eta,
            **{key: float(logs[key]) for key in ("loss", "accuracy", "val_loss", "val_accuracy") if key in logs},
        )
        if kind == "batch" and event.loss is not None:
            self.batch_curve["epoch"].append(round(self.epoch - 1 + batch / self.batches, 4))
            self.batch_curve["loss"].append(round(event.loss, 5))
            self.batch_curve["accuracy"].append(round(event.accuracy, 5))
        if self.on_event is not None:
            self.on_event(event)

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()
        self._emit("start", 0)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1
        self.epoch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        # Keras calls this once per execution of several steps, with the index the last step would have:
        # at an epoch's end the execution stops with the data, short of it ("batch 96/94").
        done = min(batch + 1, self.batches)
        self.images_seen = ((self.epoch - 1) * self.batches + done) * self.batch_size
        now = time.perf_counter()
        if now - self.last_batch_event >= BATCH_EVENT_INTERVAL_SECONDS or done == self.batches:
            self.last_batch_event = now
            self._emit("batch", done, logs)
        if self.cancel is not None and self.cancel.is_set():
            self.cancelled = True
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if not self.cancelled:  # Keras ends a cancelled epoch too; its partial metrics are not kept
            self.epoch_seconds.append(time.perf_counter() - self.epoch_start)
            self._emit("epoch", self.batches, logs)

    def on_train_end(self, logs=None):
        self.epoch = max(1, len(self.epoch_seconds))
        self._emit("end", 0 if self.cancelled else self.batches)


def train(
    preset: Preset,
    train_data: tuple[np.ndarray, np.ndarray],
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    on_event: Callable[[TrainEvent], None] | None = None,
    cancel: CancelFlag | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    model: keras.Model | None = None,
) -> TrainResult:
    """Build the preset's model (or go on training ``model``) and fit it; returns what it has even when cancelled.

    ``train_data`` and ``validation_data`` are ``(images, labels)``, images uint8 ``(N, 28, 28)`` or
    ``(N, 28, 28, 1)`` (the output of :func:`mnist_core.data.reshape_data`), scaled by ``as_model_input``.
    """
    preset = replace(preset, precision=resolve_precision(preset.precision))  # params say which one ran
    keras.utils.set_random_seed(preset.seed)
    images, labels = train_data
    batches = -(-len(labels) // preset.batch_size)
    train_set = make_dataset(
        images, labels, preset.batch_size, shuffle_seed=preset.seed, augmentation=preset.augmentation
    )
    validation_set = (
        make_dataset(*validation_data, batch_size=1024) if validation_data is not None else None
    )

    model = build_model(preset) if model is None else model
    compile_model(model, preset, batches)
    progress = _Progress(preset.epochs, batches, preset.batch_size, on_event, cancel)

    started = time.perf_counter()
    fit = model.fit(
        train_set,
        epochs=preset.epochs,
        validation_data=validation_set,
        callbacks=[progress, *callbacks],
        shuffle=False,  # the dataset reshuffles itself every epoch
        verbose=0,
    )
    train_seconds = time.perf_counter() - started

    completed = len(progress.epoch_seconds)
    history = {key: [float(value) for value in values[:completed]] for key, values in fit.history.items()}
    history["epoch_seconds"] = [round(seconds, 3) for seconds in progress.epoch_seconds]
    history["batch_curve"] = progress.batch_curve  # the training curve within epochs, as the Train page drew it
    model = inference_copy(model)
    temperature = 1.0
    if validation_data is not None and completed:
        temperature = fit_model_temperature(model, *validation_data)
    result = TrainResult(
        model=model,
        preset=preset,
        history=history,
        train_seconds=train_seconds,
        epochs_completed=completed,
        cancelled=progress.cancelled,
        images_per_second=progress.images_seen / train_seconds if train_seconds else 0.0,
        temperature=temperature,
    )
    return result
