"""Predict through a model server (``python -m mnist_core serve``, or its InferenceService) instead of in-process.

:class:`RemotePredictor` is a :class:`mnist_core.predict.PictureReader` like the in-process
:class:`~mnist_core.predict.Predictor`: it reads pictures the same way (one digit, or every digit of a
number) and raises ImageError or NoDigitError for the same pictures, so the app does not care which one it
has. It segments and prepares each picture here (a few milliseconds) and sends the 28x28 images over v1,
so the images a page shows are exactly what the model saw. Several app replicas then share one
(autoscaled) predictor: set ``MNIST_PREDICT_URL`` for each.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import numpy as np

from mnist_core import config
from mnist_core.errors import MnistError
from mnist_core.model_server import MODEL_NAME
from mnist_core.predict import PictureReader

PREDICT_URL_ENV = "MNIST_PREDICT_URL"
TIMEOUT_SECONDS = 10.0


class PredictServerError(MnistError):
    """The prediction server could not be reached, or refused a request."""


class RemotePredictor(PictureReader):
    """The model behind a KServe model server at ``url``; it must answer now (its metadata is read)."""

    def __init__(self, url: str, model_name: str = MODEL_NAME, timeout: float = TIMEOUT_SECONDS):
        if not url.startswith(("http://", "https://")):
            raise PredictServerError(f"{PREDICT_URL_ENV} must be an http:// or https:// URL, got {url[:80]!r}")
        self.url = url.rstrip("/")
        self.model_name = model_name
        self.timeout = timeout
        versions = self._call(f"/v2/models/{model_name}").get("versions") or ["a model"]
        self.source = f"{versions[0]} on the model server at {self.url}"

    def predict_batch(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities ``(N, 10)`` for ``(N, 28, 28)`` images in [0, 1], from the server."""
        side = config.IMAGE_SIZE
        instances = np.asarray(images, dtype=np.float32).reshape(-1, side, side).round(4).tolist()
        answer = self._call(f"/v1/models/{self.model_name}:predict", {"instances": instances})
        return np.array([prediction["probabilities"] for prediction in answer["predictions"]], dtype=np.float32)

    def _call(self, path: str, payload: dict | None = None) -> dict:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            try:
                reason = json.loads(error.read()).get("error") or error.reason
            except (ValueError, AttributeError):
                reason = error.reason
            raise PredictServerError(f"the model server at {self.url} answered {error.code}: {reason}") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            raise PredictServerError(f"the model server at {self.url} is unreachable ({reason})") from None
