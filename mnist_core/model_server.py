"""The predictor as a KServe model server: ``python -m mnist_core serve``.

:class:`DigitModel` is a ``kserve.Model`` around :class:`mnist_core.predict.Predictor`, so clients send
pictures (or 28x28 arrays) and get digits; KServe's ``ModelServer`` runs it, on a laptop as in a
cluster, with KServe's own routes:

* v1: ``POST /v1/models/mnist:predict`` with ``{"instances": [{"image_bytes": {"b64": "..."}}]}`` or
  ``{"instances": [[[28 rows of 28 floats in 0..1]]]}``; answers ``{"predictions": [...]}``, one
  ``{"digit", "confidence", "probabilities"}`` per instance, or ``{"error": "..."}`` for a picture with
  no digit in it;
* v2 (Open Inference Protocol): ``POST /v2/models/mnist/infer`` with one ``BYTES`` input of
  base64-encoded pictures; answers the outputs ``digit`` (-1 where none), ``confidence``,
  ``probabilities`` and ``error`` (empty where a digit was read);
* health: ``GET /`` and ``/v2/health/live`` (alive), ``/v2/health/ready``, ``/v1/models/mnist`` and
  ``/v2/models/mnist/ready`` (the model is loaded), ``/v2/models/mnist`` (metadata: the version is the
  run id).

A bad request (not JSON, a wrong shape, too many instances, a body over the limit, a corrupt picture)
is answered 4xx with a one-line ``{"error": ...}`` by KServe's ``InvalidInput`` handler or by
:class:`RequestLimits`, and the server carries on. SIGTERM stops accepting connections and lets the
requests in flight finish (uvicorn's graceful shutdown, which KServe configures).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from mnist_core import config
from mnist_core.errors import ImageError, NoDigitError
from mnist_core.preprocess import preprocess

MODEL_NAME = "mnist"
DEFAULT_PORT = 8080
DEFAULT_MAX_INSTANCES = 64
DEFAULT_MAX_BODY_MB = 16
DEFAULT_BATCH_WAIT_MS = 2.0
MAX_BATCH_IMAGES = 256
SHUTDOWN_GRACE_SECONDS = 30
DRAIN_FACTOR = 8
NO_DIGIT = -1  # v2's digit where a picture holds none

# KServe (its model_server module reads sys.argv when imported) and TensorFlow are imported inside the
# functions that need them: ``python -m mnist_core`` starts as fast as ever for every other command, and
# the InferenceService manifests (mnist_core.inference_service) use this module's names without them.


@dataclass
class Decoded:
    """A request made ready for the model: each instance's 28x28 image, or why it has none; then its
    class probabilities."""

    images: list[np.ndarray | None]
    errors: list[str | None]
    request: object | None = None  # the v2 InferRequest, None for v1
    probabilities: list[np.ndarray | None] | None = None


# ---------------------------------------------------------------- reading requests


def invalid(reason: str) -> Exception:
    """KServe's InvalidInput, which its handler answers with 400 and ``{"error": reason}``."""
    from kserve.errors import InvalidInput

    return InvalidInput(reason)


def decode_base64(text: object, where: str) -> bytes:
    if not isinstance(text, str):
        raise invalid(f"{where}: expected a base64 string, got {type(text).__name__}")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise invalid(f"{where}: not valid base64") from None


def pixel_array(instance: list, where: str) -> np.ndarray:
    """A 28x28 instance of floats in [0, 1], as the model takes it (already in MNIST's layout)."""
    side = config.IMAGE_SIZE
    try:
        array = np.asarray(instance, dtype=np.float32)
    except (ValueError, TypeError):
        raise invalid(f"{where}: expected {side} rows of {side} numbers") from None
    if array.shape not in ((side, side), (side, side, 1)):
        raise invalid(f"{where}: expected {side}x{side} numbers, got shape {list(array.shape)}")
    if not np.isfinite(array).all() or array.min() < 0.0 or array.max() > 1.0:
        raise invalid(f"{where}: pixel values must be numbers from 0 to 1")
    return array.reshape(side, side)


def picture_image(data: bytes, where: str) -> np.ndarray:
    """The 28x28 image in an encoded picture; NoDigitError passes on, any other ImageError is a bad request."""
    try:
        return preprocess(data)
    except NoDigitError:
        raise
    except ImageError as error:
        raise invalid(f"{where}: {error}") from None


def decode_v1(payload: object, max_instances: int) -> Decoded:
    """``{"instances": [...]}``: pictures as ``{"image_bytes": {"b64": ...}}``, or 28x28 arrays."""
    if isinstance(payload, (bytes, bytearray)):  # a content type KServe does not parse, e.g. curl's default
        try:
            payload = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            raise invalid("the request body is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("instances"), list):
        raise invalid('expected a JSON object {"instances": [...]}')
    instances = payload["instances"]
    check_count(len(instances), max_instances)
    decoded = Decoded([], [])
    for index, instance in enumerate(instances):
        where = f"instance {index}"
        try:
            if isinstance(instance, dict):
                encoded = instance.get("image_bytes")
                if not isinstance(encoded, dict) or "b64" not in encoded:
                    raise invalid(f'{where}: expected {{"image_bytes": {{"b64": "..."}}}} or 28 rows of 28 numbers')
                image = picture_image(decode_base64(encoded["b64"], where), where)
            elif isinstance(instance, list):
                image = pixel_array(instance, where)
            else:
                raise invalid(f"{where}: expected a picture or 28 rows of 28 numbers, got {type(instance).__name__}")
            decoded.images.append(image)
            decoded.errors.append(None)
        except NoDigitError as error:
            decoded.images.append(None)
            decoded.errors.append(str(error))
    return decoded


def decode_v2(request, max_instances: int) -> Decoded:
    """An Open Inference Protocol request with one BYTES input: base64-encoded pictures, shape ``[N]``."""
    if len(request.inputs) != 1 or request.inputs[0].datatype != "BYTES":
        raise invalid("expected exactly one input, of datatype BYTES, holding base64-encoded pictures")
    tensor = request.inputs[0]
    shape = list(tensor.shape)
    if len(shape) not in (1, 2) or (len(shape) == 2 and shape[1] != 1):
        raise invalid(f"input {tensor.name}: expected shape [N] or [N, 1], got {shape}")
    data = list(_flatten(tensor.data))
    if len(data) != shape[0]:
        raise invalid(f"input {tensor.name}: shape {shape} but {len(data)} values")
    check_count(len(data), max_instances)
    decoded = Decoded([], [], request)
    for index, text in enumerate(data):
        where = f"{tensor.name}[{index}]"
        try:
            decoded.images.append(picture_image(decode_base64(text, where), where))
            decoded.errors.append(None)
        except NoDigitError as error:
            decoded.images.append(None)
            decoded.errors.append(str(error))
    return decoded


def _flatten(values):
    for value in values:
        if isinstance(value, list):
            yield from _flatten(value)
        else:
            yield value


def check_count(count: int, max_instances: int) -> None:
    if count == 0:
        raise invalid("the request holds no instances")
    if count > max_instances:
        raise invalid(f"the request holds {count} instances; the limit is {max_instances}")


# ---------------------------------------------------------------- micro-batching


class MicroBatcher:
    """One model call for the images of every request waiting at that moment.

    Requests arriving while the model is busy queue up; the next call takes them all (up to
    ``max_images``), after waiting at most ``wait_seconds`` for more. Under load that turns many calls
    of one image into a few of dozens; idle, a request waits at most ``wait_seconds``.
    """

    def __init__(self, predict_batch: Callable[[np.ndarray], np.ndarray], executor: Executor, wait_seconds: float,
                 max_images: int = MAX_BATCH_IMAGES):
        self.predict_batch = predict_batch
        self.executor = executor
        self.wait_seconds = wait_seconds
        self.max_images = max_images
        self._queue: asyncio.Queue | None = None
        self._worker: asyncio.Task | None = None

    async def __call__(self, images: np.ndarray) -> np.ndarray:
        if self._worker is None:  # created on the server's event loop, at the first request
            self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._run())
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((images, future))
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            waiting = [await self._queue.get()]
            count, deadline = len(waiting[0][0]), loop.time() + self.wait_seconds
            while count < self.max_images:
                try:
                    if self._queue.empty():
                        waiting.append(await asyncio.wait_for(self._queue.get(), max(0.0, deadline - loop.time())))
                    else:
                        waiting.append(self._queue.get_nowait())
                except TimeoutError:
                    break
                count += len(waiting[-1][0])
            batch = np.concatenate([images for images, _ in waiting])
            try:
                probabilities = await loop.run_in_executor(self.executor, self.predict_batch, batch)
            except Exception as error:  # every waiting request fails as a lone call would have
                for _, future in waiting:
                    if not future.done():
                        future.set_exception(error)
                continue
            start = 0
            for images, future in waiting:
                if not future.done():  # a client that gave up
                    future.set_result(probabilities[start : start + len(images)])
                start += len(images)


# ---------------------------------------------------------------- the model


def digit_model_class():
    """:class:`DigitModel`, made when KServe is imported (it subclasses ``kserve.Model``)."""
    from kserve import Model
    from kserve.protocol.infer_type import InferOutput, InferRequest, InferResponse
    from kserve.utils.utils import cpu_count

    from mnist_core.predict import Predictor, prediction_of

    class DigitModel(Model):
        """A :class:`Predictor` behind KServe's v1 and v2 protocols; preprocessing included."""

        def __init__(self, model_ref: str | None, *, name: str = MODEL_NAME,
                     max_instances: int = DEFAULT_MAX_INSTANCES, batch_wait_ms: float | None = DEFAULT_BATCH_WAIT_MS):
            super().__init__(name)
            self.model_ref = model_ref
            self.max_instances = max_instances
            self.batch_wait_ms = batch_wait_ms
            self.predictor = None
            self.version = ""
            self._forward: Callable | None = None
            # The CPU work (decoding, preprocessing, the model) runs in as many threads as there are cores (KServe
            # counts them as the pod's CPU limit allows): more would only fight over the GIL with the event loop,
            # which then answers late.
            self._executor = ThreadPoolExecutor(max_workers=cpu_count(), thread_name_prefix="digits")

        def load(self) -> bool:
            """Load the model; ModelError or StoreError says why it cannot be."""
            self.predictor = Predictor.load(self.model_ref)
            self.version = self.predictor.run_id or self.predictor.source
            if self.batch_wait_ms is None:
                self._forward = self._predict_alone
            else:
                self._forward = MicroBatcher(self.predictor.predict_batch, self._executor, self.batch_wait_ms / 1000)
            self.ready = True
            return self.ready

        async def _predict_alone(self, images: np.ndarray) -> np.ndarray:
            return await self._in_threads(self.predictor.predict_batch, images)

        async def _in_threads(self, function: Callable, *args):
            return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

        async def preprocess(self, payload, headers: dict | None = None) -> Decoded:
            """Decode every picture and bring it into MNIST's layout, in a worker thread."""
            if isinstance(payload, InferRequest):
                decode, argument = decode_v2, payload
            else:
                decode, argument = decode_v1, payload
            return await self._in_threads(decode, argument, self.max_instances)

        async def predict(self, payload: Decoded, headers: dict | None = None) -> Decoded:
            images = [image for image in payload.images if image is not None]
            found = iter(await self._forward(np.stack(images)) if images else [])
            payload.probabilities = [None if image is None else next(found) for image in payload.images]
            return payload

        async def postprocess(self, result: Decoded, headers: dict | None = None, response_headers=None):
            predictions = [
                {"error": error} if error is not None else prediction_of(image, probabilities).to_dict()
                for image, probabilities, error in zip(result.images, result.probabilities, result.errors, strict=True)
            ]
            if result.request is None:
                return {"predictions": predictions}
            return self._v2_response(result.request, predictions)

        def _v2_response(self, request, predictions: list[dict]):
            count = len(predictions)
            digits = [prediction.get("digit", NO_DIGIT) for prediction in predictions]
            confidences = [prediction.get("confidence", 0.0) for prediction in predictions]
            probabilities = [prediction.get("probabilities", [0.0] * config.NUM_CLASSES) for prediction in predictions]
            errors = [prediction.get("error", "") for prediction in predictions]
            outputs = [
                InferOutput("digit", [count], "INT64", digits),
                InferOutput("confidence", [count], "FP32", confidences),
                InferOutput("probabilities", [count, config.NUM_CLASSES], "FP32",
                            [value for row in probabilities for value in row]),
                InferOutput("error", [count], "BYTES", errors),
            ]
            return InferResponse(request.id or "", self.name, outputs, model_version=self.version)

        def get_input_types(self) -> list[dict]:
            return [{"name": "image", "datatype": "BYTES", "shape": [-1]}]

        def get_output_types(self) -> list[dict]:
            return [
                {"name": "digit", "datatype": "INT64", "shape": [-1]},
                {"name": "confidence", "datatype": "FP32", "shape": [-1]},
                {"name": "probabilities", "datatype": "FP32", "shape": [-1, config.NUM_CLASSES]},
                {"name": "error", "datatype": "BYTES", "shape": [-1]},
            ]

    return DigitModel


# ---------------------------------------------------------------- request limits


class RequestLimits:
    """ASGI middleware: a request body over ``max_body_bytes`` is refused with 413 before it is kept whole.

    It also refuses (415) the v2 binary-data extension: KServe decodes binary BYTES as UTF-8 text,
    which pictures are not; base64 in the JSON ``data`` works everywhere.
    """

    def __init__(self, app, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if b"inference-header-content-length" in headers:
            await refuse(send, 415, "the binary data extension is not supported: send pictures as base64 strings")
            return
        chunks, size, more = [], 0, True
        while more:  # read it here, counting: a chunked body declares no length
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            size += len(message.get("body", b""))
            more = message.get("more_body", False)
            if size <= self.max_body_bytes:
                chunks.append(message.get("body", b""))
            elif not more or size > DRAIN_FACTOR * self.max_body_bytes:
                # Read to the end (and no further than DRAIN_FACTOR times the limit, keeping none of it), so the
                # client, still sending, reads the answer instead of a reset connection.
                await refuse(send, 413, f"the request body is over the {self.max_body_bytes / 2**20:g} MB limit")
                return
        body = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: a disconnect, when it comes
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def refuse(send, status: int, reason: str) -> None:
    body = json.dumps({"error": reason}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def validation_error(_request, error) -> object:
    """FastAPI's 422 for a body that does not fit the v2 schema, as one line like KServe's other errors."""
    from fastapi.responses import JSONResponse

    reasons = "; ".join(
        f"{'.'.join(str(part) for part in problem['loc'][1:]) or 'body'}: {problem['msg']}"
        for problem in error.errors()
    )
    return JSONResponse(status_code=422, content={"error": f"invalid inference request: {reasons}"})


# ---------------------------------------------------------------- serving


def serve(model_ref: str | None = None, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
          max_instances: int = DEFAULT_MAX_INSTANCES, max_body_mb: float = DEFAULT_MAX_BODY_MB,
          batch_wait_ms: float | None = DEFAULT_BATCH_WAIT_MS) -> None:
    """Load the model (raising ModelError or StoreError if it cannot be), then serve it until SIGTERM or SIGINT."""
    from fastapi.exceptions import RequestValidationError
    from kserve import ModelServer
    from kserve.model_server import app
    from kserve.protocol.dataplane import DataPlane

    class VersionedDataPlane(DataPlane):
        """KServe's data plane, with the model's version (its run id) in the v2 model metadata."""

        async def model_metadata(self, model_name: str) -> dict:
            metadata = await super().model_metadata(model_name)
            return {**metadata, "versions": [self.get_model_from_registry(model_name).version]}

    model = digit_model_class()(model_ref, max_instances=max_instances, batch_wait_ms=batch_wait_ms)
    model.load()

    class Server(ModelServer):
        def setup_event_loop(self):
            # KServe listens on every interface; ``host`` picks one (the REST server is made, not yet started).
            self._rest_server.config.host = host
            super().setup_event_loop()

    server = Server(http_port=port, enable_grpc=False, workers=1, grace_period=SHUTDOWN_GRACE_SECONDS)
    server.dataplane = VersionedDataPlane(server.registered_models)
    app.add_middleware(RequestLimits, max_body_bytes=int(max_body_mb * 2**20))
    app.add_exception_handler(RequestValidationError, validation_error)
    print(f"serving {model.version} as model {model.name!r} on http://{host}:{port} (v1 and v2)", flush=True)
    server.start([model])

