"""``python -m mnist_core store ...`` on the local store: output for people, JSON for scripts."""

from __future__ import annotations

import json

import pytest

from mnist_core import cli
from mnist_core.store import LocalStore, MinioSettings, MinioStore


@pytest.fixture
def saved_runs(store_env, tiny_model, run_records):
    """Two runs in the store the CLI is configured for, oldest first."""
    store = LocalStore(store_env)
    return [store.save_run(tiny_model, **run_records).run_id for _ in range(2)]


def run_cli(capsys, *arguments: str) -> tuple[int, str, str]:
    code = cli.main(["store", *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_info_names_the_backend_and_its_directory(store_env, capsys):
    code, out, _ = run_cli(capsys, "info", "--json")
    assert code == 0
    assert json.loads(out) == {
        "backend": "local",
        "directory": str(store_env),
        "spooled_runs": 0,
        "ok": True,
        "status": f"Local store at {store_env}.",
    }
    code, out, _ = run_cli(capsys, "info")
    assert code == 0 and f"directory     {store_env}" in out


def test_list_activate_show_delete(saved_runs, capsys):
    older, newer = saved_runs
    assert run_cli(capsys, "activate", older) == (0, f"active run: {older}\n", "")

    code, out, _ = run_cli(capsys, "list")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3
    assert lines[1].startswith(f"  {newer}") and lines[2].startswith(f"* {older}")
    assert "fast" in lines[1] and "0.9123" in lines[1] and "12.5" in lines[1]

    code, out, _ = run_cli(capsys, "list", "--json")
    listed = json.loads(out)
    assert [(run["run_id"], run["active"]) for run in listed] == [(newer, False), (older, True)]

    code, out, _ = run_cli(capsys, "show", newer, "--json")
    shown = json.loads(out)
    assert shown["run_id"] == newer and shown["params"]["preset"] == "fast"
    code, out, _ = run_cli(capsys, "show", newer)
    assert "test_accuracy  0.9123" in out and "model.keras" in out

    assert run_cli(capsys, "delete", older) == (0, f"deleted run {older}\n", "")
    assert [run["run_id"] for run in json.loads(run_cli(capsys, "list", "--json")[1])] == [newer]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["show", "../../etc/passwd"], "error: invalid run id '../../etc/passwd'"),
        (["delete", "20261124T063012Z-3f9a1c2b"], "error: no run 20261124T063012Z-3f9a1c2b"),
        (["activate", "20261124T063012Z-3f9a1c2b"], "error: no run 20261124T063012Z-3f9a1c2b"),
    ],
)
def test_errors_are_one_line_and_exit_2(store_env, capsys, arguments, message):
    code, out, err = run_cli(capsys, *arguments)
    assert code == 2 and out == ""
    assert err.startswith(message) and err.count("\n") == 1


def test_sync_moves_runs_spooled_during_an_outage_into_the_local_store(store_env, tiny_model, run_records, capsys):
    offline = MinioStore(MinioSettings("127.0.0.1:9", "key", "secret"), spool_dir=store_env / "spool")
    run_id = offline.save_run(tiny_model, **run_records).run_id

    code, out, _ = run_cli(capsys, "sync", "--json")

    assert code == 0
    assert json.loads(out)["uploaded"] == [run_id]
    assert [run.run_id for run in LocalStore(store_env).list_runs()] == [run_id]
    assert run_cli(capsys, "sync") == (0, "Nothing to sync.\n", "")
