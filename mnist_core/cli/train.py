"""``train``: train a preset with live progress, evaluate it, save the run, print one JSON line."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from mnist_core.cli.common import batch_size, data_option, epochs, keras_file, learning_rate, print_json, seed
from mnist_core.config import PRESETS
from mnist_core.precision import PRECISIONS


def register(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser("train", parents=[data_option()], help="train a preset, evaluate it, save the run")
    train.add_argument("--preset", required=True, choices=list(PRESETS))
    train.add_argument("--epochs", type=epochs)
    train.add_argument("--batch-size", type=batch_size)
    train.add_argument("--learning-rate", type=learning_rate)
    train.add_argument("--seed", type=seed)
    train.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                       help="turn the preset's augmentation on or off")
    train.add_argument("--precision", choices=PRECISIONS, default="auto",
                       help="bfloat16 mixed precision or float32; auto: bfloat16 where the CPU or GPU has it")
    train.add_argument("--feedback", action="store_true",
                       help="also learn from the labelled examples in the store (see `feedback list`)")
    train.add_argument("--feedback-strategy", choices=["retrain", "finetune"], default="retrain",
                       help="retrain: the preset on MNIST plus the examples (default); "
                       "finetune: the active model, a few epochs on the examples and a sample of MNIST")
    train.add_argument("--export", type=keras_file, metavar="FILE.keras",
                       help="also write the model here, with its evaluation in FILE.json")
    train.set_defaults(handler=cmd_train)


class _ProgressPrinter:
    """Readable progress on stderr: an updating line on a terminal, one line per epoch always."""

    def __init__(self):
        self.stream = sys.stderr  # looked up now: silence_native_logs() may have replaced it
        self.live = self.stream.isatty()
        self.line_start = "\r" if self.live else ""

    def __call__(self, event) -> None:
        if event.kind == "batch" and self.live:
            self.stream.write(f"\r{event.progress_line()} ")
        elif event.kind == "epoch":
            self.stream.write(f"{self.line_start}{event.progress_line()}\n")
        self.stream.flush()


def _feedback_plan(strategy: str):
    """The labelled examples in the store, as they are now, and how to learn from them."""
    from mnist_core.feedback import FeedbackStore
    from mnist_core.feedback.training import FeedbackPlan
    from mnist_core.store import get_store

    plan = FeedbackPlan(FeedbackStore(get_store()).snapshot(), strategy)
    record = plan.snapshot.record()
    print(f"learning from {record['examples']} labelled examples ({record['held_out']} held out to measure on; "
          f"snapshot {record['sha256'][:12]}, {strategy})", file=sys.stderr)
    return plan


def cmd_train(args: argparse.Namespace) -> int:
    from mnist_core.config import get_preset
    from mnist_core.data import get_data_batch
    from mnist_core.runs import export_model, train_evaluate_save

    preset = get_preset(
        args.preset,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        augment=args.augment,
        precision=args.precision,
    )
    splits, _ = get_data_batch(args.data, seed=preset.seed)
    feedback = _feedback_plan(args.feedback_strategy) if args.feedback else None
    print(f"training {preset.name}: {preset.epochs} epochs, batch {preset.batch_size}, "
          f"learning rate {preset.learning_rate}, seed {preset.seed}, {preset.precision} (Ctrl-C cancels)",
          file=sys.stderr)
    cancel = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: cancel.set())
    outcome = train_evaluate_save(preset, splits, on_event=_ProgressPrinter(), cancel=cancel, feedback=feedback)
    summary = outcome.summary
    if outcome.result.cancelled:
        print(f"cancelled after {summary.epochs} complete epochs; nothing was saved", file=sys.stderr)
        print_json(summary)
        return 130
    print(f"test accuracy {summary.test_accuracy:.4f}, saved run {summary.run_id} to {summary.location}",
          file=sys.stderr)
    if summary.spooled:
        print("the store was unreachable: the run is kept locally and will be uploaded by "
              "`python -m mnist_core store sync`", file=sys.stderr)
    if args.export:
        export_model(outcome, args.export)
        print_json({**summary.to_dict(), "exported": str(args.export)})
        return 0
    print_json(summary)
    return 0
