"""The walkthrough notebook runs top to bottom, so its story never falls behind the library."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

from mnist_core import config
from mnist_core.store import LocalStore

NOTEBOOK = config.PROJECT_ROOT / "notebooks" / "walkthrough.ipynb"


def text_of(cell) -> str:
    """Everything a code cell printed or displayed as text."""
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def test_walkthrough_runs_top_to_bottom(store_env):
    (store_env.parent / "home").mkdir(exist_ok=True)  # the kernel's HOME, for IPython's settings
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()  # raises CellExecutionError, with the failing cell, if any cell fails

    printed = "\n".join(text_of(cell) for cell in notebook.cells if cell.cell_type == "code")
    assert "test accuracy 0.9" in printed
    assert "predicted digit: 3" in printed  # assets/img1.jpg is a handwritten 3
    (run,) = LocalStore(store_env).list_runs()  # the notebook's run went to the store it was given
    assert run.preset == "fast" and run.epochs == 1 and run.test_accuracy >= 0.97
