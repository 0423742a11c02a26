"""``store``: saved runs: info, list, show, delete, activate, sync."""

from __future__ import annotations

import argparse

from mnist_core.cli.common import EXIT_USAGE, Parser, print_json
from mnist_core.errors import StoreError


def register(commands: argparse._SubParsersAction) -> None:
    store = commands.add_parser("store", help="saved runs: info, list, show, delete, activate, sync")
    store_commands = store.add_subparsers(dest="store_command", required=True, parser_class=Parser)
    json_option = argparse.ArgumentParser(add_help=False)
    json_option.add_argument("--json", action="store_true", help="print JSON")
    run_argument = argparse.ArgumentParser(add_help=False)
    run_argument.add_argument("run_id", metavar="RUN", help="a run id, as `store list` shows it")
    for name, parents, handler, help_text in (
        ("info", [json_option], cmd_store_info, "where runs are stored and whether it answers (exit 2 if not)"),
        ("list", [json_option], cmd_store_list, "saved runs, newest first; * marks the active one"),
        ("show", [run_argument, json_option], cmd_store_show, "a run's metrics, location and files"),
        ("delete", [run_argument], cmd_store_delete, "delete a run"),
        ("activate", [run_argument], cmd_store_activate, "make a run the one the app predicts with"),
        ("sync", [json_option], cmd_store_sync, "upload runs kept locally while the store was unreachable"),
    ):
        store_commands.add_parser(name, parents=parents, help=help_text).set_defaults(handler=handler)

def number(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def cmd_store_info(args: argparse.Namespace) -> int:
    from mnist_core.store import get_store

    store = get_store()
    health = store.health()
    info = {**store.describe(), "ok": health.ok, "status": health.message}
    if args.json:
        print_json(info)
    else:
        for key, value in info.items():
            print(f"{key:<14}{value}")
    return 0 if health.ok else EXIT_USAGE


def cmd_store_list(args: argparse.Namespace) -> int:
    from mnist_core.store import get_store

    store = get_store()
    runs, active = store.list_runs(), store.get_active()
    if args.json:
        print_json([{**run.to_dict(), "active": run.run_id == active} for run in runs])
        return 0
    if not runs:
        print("no saved runs")
        return 0
    print(f"  {'run id':<27}{'created':<26}{'preset':<14}{'epochs':>6}{'accuracy':>10}{'train s':>9}")
    for run in runs:
        print(f"{'*' if run.run_id == active else ' '} {run.run_id:<27}{run.created:<26}"
              f"{run.preset or '-':<14}{run.epochs or '-':>6}{number(run.test_accuracy, '.4f'):>10}"
              f"{number(run.train_seconds, '.1f'):>9}")
    return 0


def cmd_store_show(args: argparse.Namespace) -> int:
    from mnist_core.store import get_store

    run = get_store().get_run(args.run_id)
    if args.json:
        print_json(run)
        return 0
    for key, value in {**run["summary"].to_dict(), "location": run["location"]}.items():
        print(f"{key:<15}{value}")
    print("\nfiles")
    for name, file in run["manifest"]["files"].items():
        print(f"  {name:<17}{file['size']:>12,} bytes  sha256 {file['sha256']}")
    return 0


def cmd_store_delete(args: argparse.Namespace) -> int:
    from mnist_core.store import get_store

    get_store().delete_run(args.run_id)
    print(f"deleted run {args.run_id}")
    return 0


def cmd_store_activate(args: argparse.Namespace) -> int:
    from mnist_core.store import get_store

    get_store().set_active(args.run_id)
    print(f"active run: {args.run_id}")
    return 0


def cmd_store_sync(args: argparse.Namespace) -> int:
    from mnist_core.store import get_store

    report = get_store().sync()
    if args.json:
        print_json(report.to_dict())
        return EXIT_USAGE if report.pending else 0
    if report.pending:
        raise StoreError(report.message)
    print(report.message)
    return 0
