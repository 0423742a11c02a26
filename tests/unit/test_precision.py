"""Mixed bfloat16 training: detection, the choice, and models that always predict in float32."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from mnist_core import precision
from mnist_core.config import get_preset
from mnist_core.errors import ConfigError
from mnist_core.models import build_model, inference_copy, load_model_file
from mnist_core.precision import cpu_flags, cpu_has_bfloat16, cpu_model, dtype_policy, resolve_precision

CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu sse2 avx2 avx512f {extra}

processor\t: 1
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu sse2 avx2 avx512f {extra}
"""


def write_cpuinfo(tmp_path, extra: str):
    path = tmp_path / "cpuinfo"
    path.write_text(CPUINFO.format(extra=extra))
    return path


def test_cpu_flags_and_model_are_read_from_cpuinfo(tmp_path):
    path = write_cpuinfo(tmp_path, "avx512_bf16 amx_tile amx_bf16")
    assert {"avx512f", "avx512_bf16", "amx_bf16"} <= cpu_flags(path)
    assert cpu_model(path) == "Intel(R) Xeon(R) Platinum 8480+"
    assert cpu_flags(tmp_path / "missing") == set() and cpu_model(tmp_path / "missing") == ""


@pytest.mark.parametrize(
    ("extra", "expected"),
    [("avx512_bf16", True), ("amx_tile amx_bf16", True), ("avx512_vnni", False), ("", False)],
)
def test_bfloat16_needs_avx512_bf16_or_amx(tmp_path, extra, expected):
    assert cpu_has_bfloat16(cpu_flags(write_cpuinfo(tmp_path, extra))) is expected


@pytest.mark.parametrize("supported", [True, False])
def test_auto_picks_bfloat16_only_where_supported(monkeypatch, supported):
    monkeypatch.setattr(precision, "bfloat16_supported", lambda: supported)
    assert resolve_precision("auto") == ("bfloat16" if supported else "float32")
    assert get_preset("fast").precision == ("bfloat16" if supported else "float32")
    assert resolve_precision("float32") == "float32" and resolve_precision("bfloat16") == "bfloat16"


def test_unknown_precision_is_refused():
    with pytest.raises(ConfigError, match="auto, bfloat16, float32"):
        get_preset("fast", precision="float16")


def test_the_policy_is_restored_after_building():
    before = keras.config.dtype_policy().name
    with dtype_policy("bfloat16"):
        assert keras.config.dtype_policy().name == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == before
    with pytest.raises(RuntimeError), dtype_policy("bfloat16"):
        raise RuntimeError
    assert keras.config.dtype_policy().name == before


@pytest.mark.parametrize("name", ["keras-example", "fast", "best", "handwriting"])
def test_mixed_models_compute_in_bfloat16_but_output_float32(name):
    model = build_model(get_preset(name, precision="bfloat16"))
    assert model.layers[0].compute_dtype == "bfloat16" and model.layers[0].variable_dtype == "float32"
    assert model.layers[-1].compute_dtype == "float32"
    images = np.random.default_rng(0).random((4, 28, 28, 1), np.float32)
    assert keras.ops.convert_to_numpy(model(images)).dtype == np.float32


def test_the_inference_copy_predicts_like_the_mixed_model_and_is_saved_as_float32(tmp_path):
    preset = get_preset("fast", precision="bfloat16")
    mixed = build_model(preset)
    images = np.random.default_rng(1).random((16, 28, 28, 1), np.float32)
    mixed(images)  # builds the weights
    plain = inference_copy(mixed)
    assert all(layer.compute_dtype == "float32" for layer in plain.layers)
    np.testing.assert_allclose(plain(images), mixed(images), atol=0.05)  # bfloat16 keeps about 3 digits

    path = tmp_path / "model.keras"
    plain.save(path)
    loaded = load_model_file(path)
    assert all(layer.compute_dtype == "float32" for layer in loaded.layers)
    predicted = keras.ops.convert_to_numpy(loaded(images))
    assert predicted.dtype == np.float32
    np.testing.assert_allclose(predicted, keras.ops.convert_to_numpy(plain(images)), rtol=1e-6, atol=1e-7)
    assert inference_copy(plain) is plain


def test_no_nvidia_driver_means_no_gpu_to_ask(monkeypatch, tmp_path):
    monkeypatch.setattr(precision, "NVIDIA_DRIVER", tmp_path / "no-driver")
    assert precision.gpu_has_bfloat16() is False
