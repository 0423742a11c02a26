"""``evaluate``: a saved model (file or run) on the test set."""

from __future__ import annotations

import argparse

from mnist_core.cli.common import data_option, non_negative_int, print_json


def register(commands: argparse._SubParsersAction) -> None:
    evaluate = commands.add_parser("evaluate", parents=[data_option()], help="evaluate a saved model on the test set")
    evaluate.add_argument("model", metavar="MODEL", help="a .keras file or a run id")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--mistakes", type=non_negative_int, default=50, help="how many mistakes to list")
    evaluate.set_defaults(handler=cmd_evaluate)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from mnist_core.data import load_mnist
    from mnist_core.evaluate import evaluate
    from mnist_core.predict import resolve

    model = resolve(args.model).load()
    _, test = load_mnist(args.data)
    evaluation = evaluate(model, test.images, test.labels, mistakes=args.mistakes)
    if args.json:
        print_json(evaluation)
        return 0
    print(f"test accuracy {evaluation['test_accuracy']:.4f}   test loss {evaluation['test_loss']:.4f}   "
          f"({evaluation['test_images']:,} images)\n")
    print("digit  precision  recall     f1   support")
    for row in evaluation["per_class"]:
        print(f"{row['digit']:>5}  {row['precision']:>9.4f}  {row['recall']:>6.4f}  {row['f1']:.4f}  "
              f"{row['support']:>7}")
    print("\nconfusion matrix (rows: true digit, columns: predicted)")
    for digit, row in enumerate(evaluation["confusion_matrix"]):
        print(f"{digit:>3} " + " ".join(f"{count:>5}" for count in row))
    return 0
