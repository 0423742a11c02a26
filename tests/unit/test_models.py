"""Presets are data, checked before training; every preset builds a network of the right shape."""

from __future__ import annotations

import json
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from mnist_core.config import PRESETS, STANDARD_AUGMENTATION, Augmentation, get_preset
from mnist_core.data import as_model_input
from mnist_core.errors import ConfigError, ModelError
from mnist_core.models import FusedBatchNormalization, build_model, inference_copy, load_model_file


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_builds_a_network_from_images_to_probabilities(name):
    model = build_model(PRESETS[name])
    images = np.random.default_rng(0).integers(0, 256, (3, 28, 28), np.uint8)  # raw MNIST format
    probabilities = np.asarray(model(as_model_input(images)))
    assert probabilities.shape == (3, 10) and (probabilities >= 0).all()  # ten per image, one per digit
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_keras_example_is_the_keras_convnet():
    layers = [layer.__class__.__name__ for layer in build_model(PRESETS["keras-example"]).layers]
    assert layers == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dropout", "Dense"]
    assert build_model(PRESETS["keras-example"]).count_params() == 34_826  # as in keras.io's mnist_convnet


def test_overrides_replace_only_what_is_given():
    preset = get_preset("best", epochs=3, batch_size=32, learning_rate=0.01, seed=7)
    assert (preset.epochs, preset.batch_size, preset.learning_rate, preset.seed) == (3, 32, 0.01, 7)
    assert preset.architecture == PRESETS["best"].architecture
    assert get_preset("best").augmentation == STANDARD_AUGMENTATION
    assert get_preset("best", augment=False).augmentation == Augmentation()
    assert get_preset("fast", augment=True).augmentation == STANDARD_AUGMENTATION


def test_augmentation_is_data_not_layers():
    """Augmentation happens in the data pipeline; the saved model is only the network."""
    names = {layer.__class__.__name__ for layer in build_model(get_preset("best")).layers}
    assert not any(name.startswith("Random") for name in names)
    assert get_preset("handwriting").augmentation.mnist_layout
    assert not get_preset("handwriting", augment=False).augmentation.active


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch size"),
        ({"learning_rate": 2.0}, "learning rate"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_overrides_are_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        get_preset("fast", **overrides)


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ConfigError, match="keras-example, fast, best, handwriting"):
        get_preset("fastest")


def test_loading_something_that_is_not_a_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        load_model_file(tmp_path / "missing.keras")
    bogus = tmp_path / "bogus.keras"
    bogus.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ModelError, match="not a Keras model"):
        load_model_file(bogus)


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
def test_the_fused_batch_norm_trains_like_keras_batch_norm(policy):
    """Same outputs, gradients and moving statistics as Keras's layer, from one fused kernel."""
    rng = np.random.default_rng(0)
    inputs = tf.constant(rng.normal(1.0, 2.0, (32, 6, 6, 8)).astype(np.float32))
    weights = tf.constant(rng.normal(size=(32, 6, 6, 8)).astype(np.float32))  # makes every output's gradient differ
    fused = FusedBatchNormalization(momentum=0.9, dtype=policy)
    plain = keras.layers.BatchNormalization(momentum=0.9, dtype=policy)
    results = []
    for layer in (fused, plain):
        layer.build(inputs.shape)
        layer.gamma.assign(np.linspace(0.5, 1.5, 8))
        layer.beta.assign(np.linspace(-1, 1, 8))
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            outputs = layer(inputs, training=True)
            loss = tf.reduce_sum(tf.cast(outputs, tf.float32) * weights)
        gradients = tape.gradient(loss, [inputs, layer.gamma.value, layer.beta.value])
        results.append([outputs, *gradients, layer.moving_mean.value, layer.moving_variance.value])
    tolerance = 1e-5 if policy == "float32" else 2e-2  # bfloat16 keeps about 3 digits
    assert results[0][0].dtype == results[1][0].dtype
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(tf.cast(ours, tf.float32), tf.cast(theirs, tf.float32), tolerance, tolerance)
    fused.set_weights(plain.get_weights())  # inference is Keras's own code: the same bits
    np.testing.assert_array_equal(fused(inputs, training=False), plain(inputs, training=False))


def test_the_fused_batch_norm_trains_through_one_fused_op():
    """The speed comes from the fused kernel: training runs it (once), Keras's own layer does not."""

    def op_types(layer, training: bool) -> list[str]:
        layer.build((None, 6, 6, 8))
        graph = tf.function(lambda x: layer(x, training=training)).get_concrete_function(
            tf.TensorSpec((None, 6, 6, 8), tf.float32)
        ).graph
        return [op.type for op in graph.get_operations()]

    assert op_types(FusedBatchNormalization(), training=True).count("FusedBatchNormV3") == 1
    assert "FusedBatchNormV3" not in op_types(FusedBatchNormalization(), training=False)
    assert "FusedBatchNormV3" not in op_types(keras.layers.BatchNormalization(), training=True)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_saved_models_hold_only_keras_layers(precision, tmp_path):
    """What is saved loads with Keras alone: no layer of this project's in the file, all float32."""
    model = build_model(get_preset("handwriting", precision=precision))
    images = np.random.default_rng(1).random((8, 28, 28, 1), np.float32)
    saved = inference_copy(model)
    assert [layer.__class__.__name__ for layer in saved.layers] == [
        "BatchNormalization" if isinstance(layer, FusedBatchNormalization) else layer.__class__.__name__
        for layer in model.layers
    ]
    np.testing.assert_allclose(saved(images), model(images), atol=1e-5 if precision == "float32" else 0.05)
    path = tmp_path / "model.keras"
    saved.save(path)
    with zipfile.ZipFile(path) as archive:
        assert "mnist_core" not in json.dumps(json.loads(archive.read("config.json")))
    np.testing.assert_allclose(keras.saving.load_model(path)(images), saved(images), rtol=1e-6, atol=1e-7)
