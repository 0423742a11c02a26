"""Outages: a server that dies mid-save, refuses the credentials, or was never there.

Whatever happens, ``save_run`` keeps the trained model (in the local spool if need be), the run
list never shows half a run, and ``sync`` later brings the run to the server byte for byte.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from mnist_core import cli
from mnist_core.errors import StoreError
from mnist_core.store import MANIFEST, StoreUnavailableError
from tests.support.processes import free_port, run_cli

SECRET = "wrong-secret-never-printed"



def wait_for_port(port: int, process: subprocess.Popen | None = None, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if (process is not None and process.poll() is not None) or time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on port {port}") from None
            time.sleep(0.05)


class MotoProcess:
    """``python -m moto.server`` in a child process, to kill and start again on the same port."""

    def __init__(self):
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


class TcpProxy:
    """Forwards a loopback port to a server. ``cut()`` is a network outage: open connections
    drop and new ones are refused, while the server keeps what it has. ``restore()`` ends it."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = 0
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.port, self._listener = listener.getsockname()[1], listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread on Linux
        self._listener.close()
        with self._lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self._connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            server = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self._connections += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@pytest.fixture
def moto_process():
    server = MotoProcess()
    server.start()
    yield server
    server.kill()


@pytest.fixture
def proxy(moto_endpoint):
    forward = TcpProxy(int(moto_endpoint.rsplit(":", 1)[1]))
    forward.restore()
    yield forward
    forward.cut()


@contextlib.contextmanager
def moto_checks_credentials(endpoint: str):
    """Make moto check every request's credentials. It knows no keys, so all are refused."""

    def reset_auth(count: str) -> None:
        url, headers = f"http://{endpoint}/moto-api/reset-auth", {"Content-Type": "text/plain"}
        request = urllib.request.Request(url, data=count.encode(), headers=headers, method="POST")
        urllib.request.urlopen(request, timeout=5).close()

    reset_auth("0")
    try:
        yield
    finally:
        reset_auth("inf")


def fail_on_upload(store, number: int, outage) -> None:
    """Start ``outage`` just before the store's ``number``-th file upload, mid-way through a run."""
    upload, calls = store._client.fput_object, []

    def upload_then_fail(*args, **kwargs):
        calls.append(args)
        if len(calls) == number:
            outage()
        return upload(*args, **kwargs)

    store._client.fput_object = upload_then_fail


def spooled_files(store, run_id: str) -> dict[str, bytes]:
    folder = store.spool_dir / run_id
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def stored_files(store, run_id: str) -> dict[str, bytes]:
    return {
        entry.key.rsplit("/", 1)[-1]: store._read(entry.key) for entry in store._list(f"runs/{run_id}/")
    }


def test_an_outage_mid_save_spools_the_run_and_sync_uploads_it_whole(
    make_minio_store, moto_endpoint, proxy, tiny_model, run_records
):
    through_proxy = make_minio_store(proxy.endpoint)
    direct = make_minio_store(moto_endpoint, bucket=through_proxy.settings.bucket)
    fail_on_upload(through_proxy, 3, proxy.cut)

    started = time.monotonic()
    saved = through_proxy.save_run(tiny_model, **run_records)
    assert time.monotonic() - started < 10

    run_id = saved.run_id
    assert saved.spooled is True
    assert saved.location == str(through_proxy.spool_dir / run_id)
    assert "is unreachable (connection refused)" in saved.message
    assert "store sync" in saved.message
    assert saved.test_accuracy == 0.9123
    assert through_proxy.spooled_runs() == [run_id]
    assert through_proxy.describe()["spooled_runs"] == 1
    spooled = spooled_files(through_proxy, run_id)

    # Half the run reached the server, and nobody sees it.
    assert set(stored_files(direct, run_id)) == {"model.keras", "params.json"}
    assert direct.list_runs() == []
    with pytest.raises(StoreError, match="no run"):
        direct.get_run(run_id)

    # Still down: sync keeps the run and says why.
    report = through_proxy.sync()
    assert (report.uploaded, report.pending) == ([], [run_id])
    assert "unreachable" in report.message
    assert through_proxy.spooled_runs() == [run_id]

    proxy.restore()
    report = through_proxy.sync()

    assert (report.uploaded, report.pending, report.error) == ([run_id], [], None)
    assert through_proxy.spooled_runs() == []
    assert not (through_proxy.spool_dir / run_id).exists()
    assert stored_files(direct, run_id) == spooled
    assert [run.run_id for run in direct.list_runs()] == [run_id]
    assert direct.get_run(run_id)["evaluation"]["test_accuracy"] == 0.9123


def test_a_server_killed_mid_save_and_restarted_empty_gets_the_whole_run_from_cli_sync(
    make_minio_store, moto_process, tmp_path, tiny_model, run_records, monkeypatch, capsys
):
    data_dir = tmp_path / "data"
    store = make_minio_store(moto_process.endpoint, spool_dir=data_dir / "spool")
    fail_on_upload(store, 4, moto_process.kill)

    saved = store.save_run(tiny_model, **run_records)

    run_id = saved.run_id
    assert saved.spooled is True
    spooled = spooled_files(store, run_id)
    assert json.loads(spooled[MANIFEST])["run_id"] == run_id
    with pytest.raises(StoreUnavailableError, match="unreachable"):
        store.list_runs()

    settings = store.settings
    environment = {
        "MINIO_ENDPOINT": settings.endpoint,
        "MINIO_ACCESS_KEY": settings.access_key,
        "MINIO_SECRET_KEY": settings.secret_key,
        "MINIO_BUCKET": settings.bucket,
        "MINIO_SECURE": "false",
        "MNIST_STORE_DIR": str(data_dir),
        "HOME": str(tmp_path),
    }

    # The CLI, with the server still down: one line, exit 2, the run stays spooled.
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["store", "sync"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith("error: ") and "unreachable" in error
    assert store.spooled_runs() == [run_id]

    moto_process.start()  # same port, nothing stored: everything must be uploaded again
    # A long-running app keeps its store: the bucket it created is gone and must be made again.
    later = store.save_run(tiny_model, **run_records)
    assert later.spooled is False

    result = run_cli("store", "sync", "--json", env=environment, cwd=tmp_path, timeout=120)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["uploaded"] == [run_id]
    assert store.spooled_runs() == []
    assert stored_files(store, run_id) == spooled
    assert [run.run_id for run in store.list_runs()] == [later.run_id, run_id]
    assert store.load_run_model(run_id).count_params() == tiny_model.count_params()


def test_refused_credentials_spool_the_run_with_one_clear_message(
    make_minio_store, moto_endpoint, tiny_model, run_records, caplog
):
    store = make_minio_store(secret_key=SECRET)
    caplog.set_level(logging.DEBUG)

    with moto_checks_credentials(moto_endpoint):
        health = store.health()
        saved = store.save_run(tiny_model, **run_records)
        report = store.sync()

    expected = "refused the credentials (InvalidAccessKeyId); check MINIO_ACCESS_KEY and MINIO_SECRET_KEY."
    assert not health.ok
    assert health.message == f"MinIO at http://{moto_endpoint} {expected}"
    assert saved.spooled is True
    assert saved.message.startswith(health.message)
    assert report.pending == [saved.run_id]
    for text in (health.message, saved.message, report.message, caplog.text, repr(store), str(store.describe())):
        assert SECRET not in text

    # Credentials accepted again (as after fixing them): the next sync delivers the run.
    report = store.sync()
    assert report.uploaded == [saved.run_id]
    assert [run.run_id for run in store.list_runs()] == [saved.run_id]


@pytest.mark.parametrize(
    ("endpoint", "reason"),
    [("127.0.0.1:{free_port}", "connection refused"), ("no-such-host.invalid:9000", "unknown host")],
)
def test_an_unreachable_endpoint_fails_fast_and_keeps_the_run(
    make_minio_store, endpoint, reason, tiny_model, run_records
):
    endpoint = endpoint.format(free_port=free_port())
    store = make_minio_store(endpoint)
    expected = f"MinIO at http://{endpoint} is unreachable ({reason})."

    started = time.monotonic()
    health = store.health()
    saved = store.save_run(tiny_model, **run_records)
    assert time.monotonic() - started < 10

    assert (health.ok, health.message) == (False, expected)
    assert saved.spooled is True
    assert saved.message.startswith(expected)
    assert store.spooled_runs() == [saved.run_id]
    with pytest.raises(StoreUnavailableError) as caught:
        store.list_runs()
    assert str(caught.value) == expected


def test_the_cli_reports_an_unreachable_store_in_one_line(store_env, monkeypatch, capsys):
    monkeypatch.setenv("MINIO_ENDPOINT", f"127.0.0.1:{free_port()}")
    monkeypatch.setenv("MINIO_ACCESS_KEY", "studio")
    monkeypatch.setenv("MINIO_SECRET_KEY", SECRET)

    assert cli.main(["store", "list"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "is unreachable (connection refused)" in error

    assert cli.main(["store", "info", "--json"]) == 2
    info = json.loads(capsys.readouterr().out)
    assert info["backend"] == "minio" and info["ok"] is False
    assert SECRET not in json.dumps(info)


def test_a_damaged_spooled_run_is_kept_not_uploaded(make_minio_store, tiny_model, run_records):
    offline = make_minio_store(f"127.0.0.1:{free_port()}")
    saved = offline.save_run(tiny_model, **run_records)
    Path(saved.location, "model.keras").write_bytes(b"damaged on disk")

    online = make_minio_store()  # same spool folder, a working server
    report = online.sync()

    assert (report.uploaded, report.pending) == ([], [saved.run_id])
    assert "damaged: model.keras does not match its checksum" in report.error
    assert online.spooled_runs() == [saved.run_id]
    assert online._list("runs/") == []
