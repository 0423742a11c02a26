"""Which arithmetic training runs in: bfloat16 mixed precision where the hardware has it, else float32.

Mixed bfloat16 keeps the weights in float32 and computes in bfloat16, which CPUs with AVX512_BF16
or AMX and GPUs of compute capability 8.0 and later run natively (about twice as fast for our
networks); elsewhere it would be emulated and slower, so ``auto`` picks float32 there. Prediction
always runs in float32: :func:`mnist_core.models.inference_copy` turns a trained model into one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from mnist_core.errors import ConfigError

PRECISIONS = ("auto", "bfloat16", "float32")
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")
KERAS_POLICY = {"bfloat16": "mixed_bfloat16", "float32": "float32"}


CPUINFO = Path("/proc/cpuinfo")
NVIDIA_DRIVER = Path("/proc/driver/nvidia")


def _first_cpu_field(name: str, cpuinfo: Path) -> str:
    """The value of ``name`` for the first CPU listed in ``cpuinfo``; empty where there is none."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return ""


def cpu_flags(cpuinfo: Path = CPUINFO) -> set[str]:
    """The CPU's feature flags (Linux); empty where they cannot be read."""
    return set(_first_cpu_field("flags", cpuinfo).split())


def cpu_model(cpuinfo: Path = CPUINFO) -> str:
    """The CPU's marketing name, e.g. "AMD EPYC 9R14 96-Core Processor"; empty where unknown."""
    return _first_cpu_field("model name", cpuinfo)


def cpu_has_bfloat16(flags: set[str] | None = None) -> bool:
    """Whether the CPU computes in bfloat16 natively (AVX512_BF16 or AMX)."""
    return bool(set(CPU_BF16_FLAGS) & (cpu_flags() if flags is None else flags))


def gpu_has_bfloat16() -> bool:
    """Whether TensorFlow sees a GPU of compute capability 8.0 or later (Ampere and newer).

    Without an NVIDIA driver there is nothing to ask, and TensorFlow is not imported just to find that out.
    """
    if not NVIDIA_DRIVER.exists():
        return False
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        capability = tf.config.experimental.get_device_details(gpu).get("compute_capability")
        if capability is not None and tuple(capability) >= (8, 0):
            return True
    return False


@cache
def bfloat16_supported() -> bool:
    """Whether bfloat16 runs natively here, on the CPU or on a GPU TensorFlow will use."""
    return cpu_has_bfloat16() or gpu_has_bfloat16()


def resolve_precision(choice: str = "auto") -> str:
    """``"bfloat16"`` or ``"float32"``: the precision to train in for ``choice`` on this machine."""
    if choice not in PRECISIONS:
        raise ConfigError(f"unknown precision {choice!r}; choose one of: {', '.join(PRECISIONS)}")
    if choice == "auto":
        return "bfloat16" if bfloat16_supported() else "float32"
    return choice


@contextlib.contextmanager
def dtype_policy(precision: str) -> Iterator[None]:
    """Layers created inside this block compute in ``precision``; Keras's global policy is restored after."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(KERAS_POLICY[resolve_precision(precision)])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
