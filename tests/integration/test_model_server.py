"""``python -m mnist_core serve`` for real: a KServe model server in a subprocess, on a loopback port.

Both protocols answer ``img1.jpg`` with 3; every kind of bad request gets a 4xx and a one-line reason
while the server keeps serving; health, readiness and metadata are KServe's; a model that cannot be
loaded stops the server with a reason; SIGTERM lets the requests in flight finish.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from mnist_core import config
from mnist_core.errors import ImageError, NoDigitError
from mnist_core.predict_client import PREDICT_URL_ENV, PredictServerError, RemotePredictor
from mnist_core.preprocess import preprocess
from tests.support.images import encoded
from tests.support.model_server import running_server
from tests.support.processes import free_port, run_cli

IMG1 = (config.ASSETS_DIR / "img1.jpg").read_bytes()
BLANK = encoded(Image.new("L", (64, 64), 255), "PNG")
MAX_INSTANCES = 8


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def server_env(tmp_path) -> dict:
    """No MinIO, an empty local store: the server predicts with the bundled baseline."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MINIO_")}
    return env | {"MNIST_STORE_DIR": str(tmp_path / "store"), "HOME": str(tmp_path / "home"),
                  "TF_CPP_MIN_LOG_LEVEL": "2"}


def request(url: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 60) -> tuple[int, dict]:
    """Status and JSON answer of one request (http.client: it sends exactly the bytes and headers given)."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def post(url: str, path: str, payload: object, **options) -> tuple[int, dict]:
    return request(url, "POST", path, json.dumps(payload).encode(), **options)


def v1(url: str, instances: list, **options) -> tuple[int, dict]:
    return post(url, "/v1/models/mnist:predict", {"instances": instances}, **options)


def v2(url: str, pictures: list[bytes]) -> tuple[int, dict]:
    payload = {"inputs": [{"name": "image", "shape": [len(pictures)], "datatype": "BYTES",
                           "data": [b64(picture) for picture in pictures]}]}
    return post(url, "/v2/models/mnist/infer", payload)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model-server")
    with running_server(folder / "server.log", free_port(), "--max-instances", str(MAX_INSTANCES),
                        "--max-body-mb", "2", env=server_env(folder)) as running:
        yield running


# ---------------------------------------------------------------- the protocols


def test_v1_reads_img1_as_3(server):
    status, answer = v1(server.url, [{"image_bytes": {"b64": b64(IMG1)}}])
    assert status == 200
    (prediction,) = answer["predictions"]
    assert prediction["digit"] == 3
    assert set(prediction) == {"digit", "confidence", "probabilities"}
    assert len(prediction["probabilities"]) == config.NUM_CLASSES
    assert prediction["confidence"] == max(prediction["probabilities"])
    assert abs(sum(prediction["probabilities"]) - 1) < 1e-3


def test_v1_takes_28x28_arrays_and_answers_each_instance_in_place(server, predictor):
    pixels = preprocess(IMG1)
    status, answer = v1(server.url, [pixels.tolist(), {"image_bytes": {"b64": b64(BLANK)}},
                                     {"image_bytes": {"b64": b64(IMG1)}}])
    assert status == 200
    array, blank, picture = answer["predictions"]
    assert array["digit"] == picture["digit"] == 3
    assert np.allclose(array["probabilities"], predictor.predict_batch(pixels[None])[0], atol=1e-5)
    assert blank == {"error": "no digit found: the image is blank or nothing stands out from the background"}


def test_v2_reads_img1_as_3_with_the_model_version(server):
    status, answer = v2(server.url, [IMG1, BLANK])
    assert status == 200
    assert answer["model_name"] == "mnist" and answer["model_version"] == "bundled baseline"
    outputs = {output["name"]: output for output in answer["outputs"]}
    assert outputs["digit"]["data"] == [3, -1]
    assert outputs["probabilities"]["shape"] == [2, config.NUM_CLASSES]
    assert outputs["error"]["data"][0] == "" and "no digit found" in outputs["error"]["data"][1]


def test_awkward_pictures_get_their_digit_or_a_400(server, awkward_files):
    for name, (path, expected) in awkward_files.items():
        status, answer = v1(server.url, [{"image_bytes": {"b64": b64(path.read_bytes())}}])
        if isinstance(expected, int):
            assert status == 200 and answer["predictions"][0]["digit"] == expected, (name, answer)
        else:
            assert status == 400 and expected in answer["error"], (name, answer)


def test_curl_default_content_type_is_read_as_json(server):
    body = json.dumps({"instances": [{"image_bytes": {"b64": b64(IMG1)}}]}).encode()
    status, answer = request(server.url, "POST", "/v1/models/mnist:predict", body,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and answer["predictions"][0]["digit"] == 3


# ---------------------------------------------------------------- health and metadata


def test_health_readiness_and_metadata_are_kserve_s(server):
    assert request(server.url, "GET", "/") == (200, {"status": "alive"})
    assert request(server.url, "GET", "/v2/health/live") == (200, {"live": True})
    assert request(server.url, "GET", "/v2/health/ready") == (200, {"ready": True})
    assert request(server.url, "GET", "/v1/models/mnist") == (200, {"name": "mnist", "ready": True})
    assert request(server.url, "GET", "/v2/models/mnist/ready") == (200, {"name": "mnist", "ready": True})
    assert request(server.url, "GET", "/v1/models") == (200, {"models": ["mnist"]})
    status, metadata = request(server.url, "GET", "/v2/models/mnist")
    assert status == 200
    assert metadata["versions"] == ["bundled baseline"]
    assert metadata["inputs"] == [{"name": "image", "datatype": "BYTES", "shape": [-1]}]
    assert [output["name"] for output in metadata["outputs"]] == ["digit", "confidence", "probabilities", "error"]
    assert request(server.url, "GET", "/v2/models/other/ready")[0] == 404


# ---------------------------------------------------------------- bad requests

PICTURE = {"image_bytes": {"b64": b64(IMG1)}}
V2_INPUT = {"name": "image", "shape": [1], "datatype": "BYTES", "data": [b64(IMG1)]}
BAD_REQUESTS = {
    "not JSON": ("/v1/models/mnist:predict", b"{not json", {}, 400, "Unrecognized request format"),
    "not JSON, text/plain": ("/v1/models/mnist:predict", b"hello", {"Content-Type": "text/plain"}, 400, "not JSON"),
    "no instances key": ("/v1/models/mnist:predict", {"inputs": []}, {}, 400, '{"instances": [...]}'),
    "instances not a list": ("/v1/models/mnist:predict", {"instances": "x"}, {}, 400, '{"instances": [...]}'),
    "no instances": ("/v1/models/mnist:predict", {"instances": []}, {}, 400, "no instances"),
    "too many instances": ("/v1/models/mnist:predict", {"instances": [PICTURE] * (MAX_INSTANCES + 1)}, {}, 400,
                           f"the limit is {MAX_INSTANCES}"),
    "wrong shape": ("/v1/models/mnist:predict", {"instances": [[[0.5] * 28] * 27]}, {}, 400, "got shape [27, 28]"),
    "ragged rows": ("/v1/models/mnist:predict", {"instances": [[[0.5] * 28, [0.5]]]}, {}, 400, "28 rows of 28"),
    "values over 1": ("/v1/models/mnist:predict", {"instances": [[[255.0] * 28] * 28]}, {}, 400, "from 0 to 1"),
    "a number": ("/v1/models/mnist:predict", {"instances": [7]}, {}, 400, "got int"),
    "other keys": ("/v1/models/mnist:predict", {"instances": [{"b64": "abc"}]}, {}, 400, "image_bytes"),
    "bad base64": ("/v1/models/mnist:predict", {"instances": [{"image_bytes": {"b64": "***"}}]}, {}, 400,
                   "not valid base64"),
    "corrupt image": ("/v1/models/mnist:predict", {"instances": [{"image_bytes": {"b64": b64(IMG1[:2000])}}]}, {},
                      400, "truncated or corrupt"),
    "not an image": ("/v1/models/mnist:predict", {"instances": [{"image_bytes": {"b64": b64(b"hello")}}]}, {},
                     400, "not an image"),
    "v2 not JSON": ("/v2/models/mnist/infer", b"{", {}, 422, "invalid inference request"),
    "v2 no inputs": ("/v2/models/mnist/infer", {"id": "1"}, {}, 422, "inputs"),
    "v2 wrong datatype": ("/v2/models/mnist/infer", {"inputs": [{**V2_INPUT, "datatype": "FP32"}]}, {}, 400,
                          "datatype BYTES"),
    "v2 two inputs": ("/v2/models/mnist/infer", {"inputs": [V2_INPUT, V2_INPUT]}, {}, 400, "exactly one input"),
    "v2 shape mismatch": ("/v2/models/mnist/infer", {"inputs": [{**V2_INPUT, "shape": [2]}]}, {}, 400,
                          "but 1 values"),
    "v2 bad shape": ("/v2/models/mnist/infer", {"inputs": [{**V2_INPUT, "shape": [1, 28, 28]}]}, {}, 400,
                     "expected shape [N]"),
    "v2 corrupt image": ("/v2/models/mnist/infer", {"inputs": [{**V2_INPUT, "data": [b64(IMG1[:2000])]}]}, {},
                         400, "truncated or corrupt"),
    "v2 binary extension": ("/v2/models/mnist/infer", b'{"inputs": []}', {"Inference-Header-Content-Length": "14"},
                            415, "binary data extension"),
    "unknown model": ("/v1/models/digits:predict", {"instances": [PICTURE]}, {}, 404, "digits"),
}


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=list(BAD_REQUESTS))
def test_a_bad_request_gets_a_4xx_with_one_line_and_the_server_carries_on(server, case):
    path, payload, headers, expected_status, fragment = BAD_REQUESTS[case]
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    status, answer = request(server.url, "POST", path, body, headers=headers)
    assert status == expected_status, answer
    assert fragment in answer["error"] and "\n" not in answer["error"], answer
    assert v1(server.url, [PICTURE])[1]["predictions"][0]["digit"] == 3


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_a_body_over_the_limit_gets_413(server, chunked):
    body = json.dumps({"instances": [{"image_bytes": {"b64": "A" * (3 * 2**20)}}]}).encode()
    host, port = server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    if chunked:
        connection.request("POST", "/v1/models/mnist:predict", body=iter([body[:2**20], body[2**20:]]),
                           headers={"Content-Type": "application/json"}, encode_chunked=True)
    else:
        connection.request("POST", "/v1/models/mnist:predict", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read()) == {"error": "the request body is over the 2 MB limit"}
    connection.close()
    assert v1(server.url, [PICTURE])[0] == 200


# ---------------------------------------------------------------- the app's client


def test_the_remote_predictor_answers_like_the_in_process_one(server, predictor):
    remote = RemotePredictor(server.url)
    assert remote.source == f"bundled baseline on the model server at {server.url}"
    for path in [config.ASSETS_DIR / "img1.jpg", *sorted(config.ASSETS_DIR.glob("sample_*"))]:
        here, there = predictor.predict_image(path), remote.predict_image(path)
        assert there.digit == here.digit and np.array_equal(there.image, here.image), path.name
        assert np.allclose(there.probabilities, here.probabilities, atol=1e-3)
    with pytest.raises(NoDigitError):
        remote.predict_image(BLANK)
    with pytest.raises(ImageError, match="not an image"):
        remote.predict_image(b"hello")


def test_an_unreachable_server_is_one_clear_error():
    with pytest.raises(PredictServerError, match=r"^the model server at http://127.0.0.1:9 is unreachable"):
        RemotePredictor("http://127.0.0.1:9", timeout=2)
    with pytest.raises(PredictServerError, match="must be an http"):
        RemotePredictor("127.0.0.1:8080")


def test_the_predict_page_predicts_through_the_server_and_says_so(server, store_env, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv(PREDICT_URL_ENV, server.url)
    st.cache_resource.clear()
    try:
        app = AppTest.from_file(config.PROJECT_ROOT / "app.py", default_timeout=60).run()
        app.switch_page("pages/predict.py").run()
        assert not app.exception, app.exception
        assert f"on the model server at {server.url}" in " ".join(caption.value for caption in app.caption)
        app.file_uploader(key="uploads").set_value([("img1.jpg", IMG1, "image/jpeg")]).run()
        assert [metric.value for metric in app.metric if metric.label == "Prediction"] == ["3"]
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()


# ---------------------------------------------------------------- start and stop


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        ("missing.keras", "missing.keras"),
        ("corrupt.keras", "corrupt.keras"),
        ("20990101T000000Z-abcdef12", "no run 20990101T000000Z-abcdef12"),
    ],
)
def test_a_model_that_cannot_load_stops_the_server_with_a_reason(tmp_path, model, reason):
    (tmp_path / "corrupt.keras").write_bytes(b"not a zip file")
    result = run_cli("serve", "--port", str(free_port()), "--model", str(tmp_path / model) if "." in model else model,
                     env=server_env(tmp_path), timeout=120)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and reason in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_bad_arguments_are_one_line_and_exit_2(tmp_path):
    result = run_cli("serve", "--port", "70000", env=server_env(tmp_path), timeout=60)
    assert result.returncode == 2 and "port" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_sigterm_lets_the_requests_in_flight_finish(tmp_path):
    photo = Image.open(config.ASSETS_DIR / "img1.jpg").resize((2560, 1920))
    big = {"image_bytes": {"b64": b64(encoded(photo, "PNG"))}}  # 1.2 MB, 0.3 s to read: slow, on purpose
    with running_server(tmp_path / "server.log", free_port(), env=server_env(tmp_path)) as server, \
            ThreadPoolExecutor(4) as pool:
        answers = [pool.submit(v1, server.url, [big] * 6, timeout=120) for _ in range(4)]
        time.sleep(1.0)  # every request sent, none answered yet
        assert not any(answer.done() for answer in answers)
        os.killpg(server.process.pid, signal.SIGTERM)
        results = [answer.result() for answer in answers]
        assert server.process.wait(60) == 0
    assert [status for status, _ in results] == [200] * 4
    assert all(prediction["digit"] == 3 for _, answer in results for prediction in answer["predictions"])
    assert "Traceback" not in server.log.read_text()
