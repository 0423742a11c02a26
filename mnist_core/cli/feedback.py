"""``python -m mnist_core feedback``: labelled examples from the command line.

    feedback add FILE... --label D [--json]   label pictures (all are read first: one bad file, nothing added)
    feedback list [--json] [--predictions]     the examples (or the logged predictions), newest first
    feedback delete ID                         delete an example or a logged prediction
    feedback export DIR                        the examples as PNG files and labels.csv
    feedback sync                              upload entries kept locally while the store was down
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mnist_core.cli.common import Parser, print_json
from mnist_core.errors import StoreError


def _feedback_store():
    from mnist_core.feedback import FeedbackStore
    from mnist_core.store import get_store

    return FeedbackStore(get_store())


def _label(text: str) -> int:
    from mnist_core.errors import ConfigError
    from mnist_core.feedback import check_label

    try:
        return check_label(text)
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def cmd_add(args: argparse.Namespace) -> int:
    from mnist_core.predict import Predictor

    feedback = _feedback_store()
    added = feedback.add_files(args.files, args.label, predictor=Predictor.load(args.model))
    for entry, stored in added:
        if args.json:
            print_json({**entry.summary(), "spooled": not stored})
        else:
            read = "" if entry.digit is None else f" (the model read {entry.digit})"
            where = "" if stored else " (kept locally: the store is unreachable; `feedback sync` uploads it)"
            print(f"{entry.name}: example {entry.id} labelled {entry.label}{read}{where}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from mnist_core.feedback.entries import EXAMPLES, PREDICTIONS

    entries = _feedback_store().entries(PREDICTIONS if args.predictions else EXAMPLES)
    if args.json:
        print_json([entry.summary() for entry in entries])
        return 0
    if not entries:
        print("no logged predictions" if args.predictions else "no labelled examples")
        return 0
    print(f"{'id':<27}{'created':<26}{'source':<8}{'label':>6}{'read':>6}{'confidence':>12}  model")
    for entry in entries:
        label = "-" if entry.label is None else entry.label
        read = "-" if entry.digit is None else entry.digit
        confidence = "-" if entry.confidence is None else f"{entry.confidence:.1%}"
        print(f"{entry.id:<27}{entry.created:<26}{entry.source:<8}{label:>6}{read:>6}{confidence:>12}  "
              f"{entry.model or '-'}")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    deleted = _feedback_store().delete(args.entry_id)
    print(f"deleted {', '.join(deleted)}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    feedback = _feedback_store()
    csv_path = feedback.export(args.folder)
    count = sum(1 for _ in csv_path.open(encoding="utf-8")) - 1
    print(f"exported {count} labelled examples to {args.folder} (PNG files and {csv_path.name})")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    report = _feedback_store().sync()
    if report.pending:
        raise StoreError(report.message)
    print(report.message)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser("feedback", help="labelled examples: add, list, delete, export, sync")
    commands = group.add_subparsers(dest="feedback_command", required=True, parser_class=Parser)

    add = commands.add_parser("add", help="label picture files (all or nothing)")
    add.add_argument("files", metavar="FILE", nargs="+", type=Path, help="pictures of one digit each")
    add.add_argument("--label", required=True, type=_label, metavar="D", help="the digit they show, 0-9")
    add.add_argument("--model", metavar="MODEL", help="record what this model reads (default: the active run)")
    add.add_argument("--json", action="store_true", help="print one JSON object per example")
    add.set_defaults(handler=cmd_add)

    listing = commands.add_parser("list", help="labelled examples, newest first")
    listing.add_argument("--predictions", action="store_true", help="list the logged predictions instead")
    listing.add_argument("--json", action="store_true", help="print one JSON list")
    listing.set_defaults(handler=cmd_list)

    delete = commands.add_parser("delete", help="delete an example or a logged prediction (and its examples)")
    delete.add_argument("entry_id", metavar="ID", help="an id, as `feedback list` shows it")
    delete.set_defaults(handler=cmd_delete)

    export = commands.add_parser("export", help="write the examples as PNG files and labels.csv")
    export.add_argument("folder", metavar="DIR", type=Path)
    export.set_defaults(handler=cmd_export)

    commands.add_parser("sync", help="upload entries kept locally while the store was unreachable").set_defaults(
        handler=cmd_sync
    )
