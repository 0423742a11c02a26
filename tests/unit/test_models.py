"""Presets are data, checked before training; every preset builds a network of the right shape."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core.config import PRESETS, STANDARD_AUGMENTATION, Augmentation, get_preset
from mnist_core.data import as_model_input
from mnist_core.errors import ConfigError, ModelError
from mnist_core.models import build_model, load_model_file


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
