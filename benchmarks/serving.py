"""The model server under load, against the in-process Predictor in the same run; and a restart mid-load.

Load: 32 concurrent clients (threads, one keep-alive connection each) send 2,000 real digit pictures,
MNIST test digits as 280x280 PNGs like the canvas sends, one picture per v1 request. The same pictures
go through ``Predictor.predict_image`` from 32 threads of this process (the in-process baseline), then
through ``python -m mnist_core serve`` without and with micro-batching, in interleaved rounds. Reported:
each figure's median over the rounds (throughput, p50/p99 latency, errors, digits read right), and the
median of the ratios taken within each round.

Fault: while the clients send, the server gets SIGTERM and is started again on the same port. Each
client times out after 10 s and waits 0.5 s after an error; reported: errors, the longest any failed
request took (an error, not a hang), how long until the new server was ready, and whether the
requests after that succeed.

    python -m benchmarks.serving [--pictures 2000] [--clients 32] [--rounds 2]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import os
import signal
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from benchmarks.common import median, write_result
from benchmarks.predict_latency import canvas_png, percentiles

TIMEOUT_SECONDS = 10.0
BACKOFF_SECONDS = 0.5


def server_env(folder: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MINIO_")}
    return env | {"MNIST_STORE_DIR": str(folder / "store"), "TF_CPP_MIN_LOG_LEVEL": "2"}


class Client:
    """One client: a keep-alive connection, reopened after an error."""

    def __init__(self, port: int):
        self.port = port
        self.connection: http.client.HTTPConnection | None = None

    def predict(self, body: bytes) -> int:
        """The digit the server reads; raises on any error (connection, timeout, status)."""
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT_SECONDS)
        try:
            self.connection.request("POST", "/v1/models/mnist:predict", body=body,
                                    headers={"Content-Type": "application/json"})
            response = self.connection.getresponse()
            answer = response.read()
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
            return json.loads(answer)["predictions"][0]["digit"]
        except Exception:
            self.connection.close()
            self.connection = None
            raise


def load(send, jobs: list, clients: int, on_progress=None) -> dict:
    """Run ``send(client_index, job)`` for every job on ``clients`` threads; latencies, errors, answers."""
    latencies, failures, answers = [None] * len(jobs), [], [None] * len(jobs)
    next_job, lock = iter(range(len(jobs))), threading.Lock()

    def worker(index: int) -> None:
        while True:
            with lock:
                job = next(next_job, None)
            if job is None:
                return
            started = time.perf_counter()
            try:
                answers[job] = send(index, jobs[job])
                latencies[job] = time.perf_counter() - started
            except Exception as error:
                failures.append((time.perf_counter() - started, type(error).__name__, time.perf_counter()))
                time.sleep(BACKOFF_SECONDS)
            if on_progress is not None:
                on_progress(job)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    seconds = time.perf_counter() - started
    done = [latency for latency in latencies if latency is not None]
    return {"seconds": seconds, "latencies": done, "failures": failures, "answers": answers}


def summary(result: dict, labels: np.ndarray) -> dict:
    answered = [(answer, label) for answer, label in zip(result["answers"], labels, strict=True) if answer is not None]
    return {
        "requests": len(result["answers"]),
        "errors": len(result["failures"]),
        "pictures_per_second": round(len(result["latencies"]) / result["seconds"], 1),
        **percentiles(result["latencies"]),
        "digits_right": f"{sum(answer == label for answer, label in answered)}/{len(answered)}",
    }


def median_summary(rows: list[dict]) -> dict:
    """Each figure's median over the rounds; errors added up."""
    return {key: sum(row[key] for row in rows) if key == "errors" else
            round(median([row[key] for row in rows]), 1) if isinstance(rows[0][key], float) else rows[0][key]
            for key in rows[0]}


def server_load(bodies: list[bytes], labels: np.ndarray, clients: int, folder: Path, name: str, option: str) -> dict:
    """The load against a fresh server started with ``option``."""
    from tests.support.model_server import running_server
    from tests.support.processes import free_port

    port = free_port()
    with running_server(folder / f"{name}.log", port, option, env=server_env(folder)):
        pool = [Client(port) for _ in range(clients)]
        for body in bodies[:20]:  # warm up
            pool[0].predict(body)
        return summary(load(lambda index, body: pool[index].predict(body), bodies, clients), labels)


def restart_mid_load(bodies: list[bytes], labels: np.ndarray, clients: int, folder: Path) -> dict:
    """The load against a server that gets SIGTERM a third of the way in and is started again on its port."""
    from tests.support.model_server import running_server
    from tests.support.processes import free_port

    port, a_third_sent, moments = free_port(), threading.Event(), {}
    with contextlib.ExitStack() as servers:
        first = servers.enter_context(running_server(folder / "first.log", port, env=server_env(folder)))

        def restart() -> None:
            a_third_sent.wait()
            moments["sigterm"] = time.perf_counter()
            os.killpg(first.process.pid, signal.SIGTERM)
            first.process.wait(60)
            servers.enter_context(running_server(folder / "second.log", port, env=server_env(folder)))
            moments["ready"] = time.perf_counter()

        controller = threading.Thread(target=restart)
        controller.start()
        pool = [Client(port) for _ in range(clients)]
        result = load(lambda index, body: pool[index].predict(body), bodies, clients,
                      on_progress=lambda job: job >= len(bodies) // 3 and a_third_sent.set())
        controller.join(180)
    failures = result["failures"]
    return {
        **summary(result, labels),
        "longest_failed_request_seconds": round(max((failure[0] for failure in failures), default=0.0), 3),
        "error_kinds": sorted({failure[1] for failure in failures}),
        "seconds_to_ready_after_sigterm": round(moments["ready"] - moments["sigterm"], 1),
        "errors_after_ready": sum(failure[2] > moments["ready"] + BACKOFF_SECONDS for failure in failures),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pictures", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    load_average = round(os.getloadavg()[0], 1)  # other work on the machine: the numbers are only as quiet as it

    from mnist_core.data import load_mnist
    from mnist_core.predict import Predictor

    _, test = load_mnist()
    pictures = [canvas_png(image) for image in test.images[: args.pictures]]
    labels = test.labels[: args.pictures]
    bodies = [json.dumps({"instances": [{"image_bytes": {"b64": base64.b64encode(picture).decode()}}]}).encode()
              for picture in pictures]

    predictor = Predictor.load()
    for picture in pictures[:20]:
        predictor.predict_image(picture)
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for _ in range(args.rounds):  # interleaved: the machine's other work weighs on every path alike
            row = {"in_process": summary(load(lambda _, picture: predictor.predict_image(picture).digit, pictures,
                                              args.clients), labels)}
            for name, option in (("server", "--no-micro-batch"), ("server_micro_batch", "--micro-batch")):
                row[name] = server_load(bodies, labels, args.clients, folder, name, option)
            print(json.dumps(row), flush=True)
            rounds.append(row)
        fault = restart_mid_load(bodies, labels, args.clients, folder)
        print(f"restart: {fault}", flush=True)

    def ratio(numerator: str, denominator: str) -> float:
        """The median over rounds of the throughput ratio within each round."""
        return round(median([row[numerator]["pictures_per_second"] / row[denominator]["pictures_per_second"]
                             for row in rounds]), 2)

    payload = {
        "pictures": args.pictures,
        "clients": args.clients,
        "rounds": args.rounds,
        "load_average_at_start": load_average,
        "load": {name: median_summary([row[name] for row in rounds]) for name in rounds[0]},
        "ratios": {
            "micro_batch_over_in_process_throughput": ratio("server_micro_batch", "in_process"),
            "server_over_in_process_throughput": ratio("server", "in_process"),
            "micro_batch_over_server_throughput": ratio("server_micro_batch", "server"),
        },
        "restart_mid_load": fault,
        "every_round": rounds,
    }
    path = write_result("serving", payload)
    print(f"-> {path}")


if __name__ == "__main__":
    main()
