"""The notebooks run top to bottom, as a reader would run them, and are stored clean."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
STRACE = "/usr/bin/strace"


def notebooks() -> list[Path]:
    found = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert found, f"no notebooks in {NOTEBOOKS}"
    return found


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.mark.skipif(not os.access(STRACE, os.X_OK), reason="strace is not installed")
def test_walkthrough_runs_top_to_bottom() -> None:
    path = NOTEBOOKS / "walkthrough.ipynb"
    nb = nbformat.read(path, as_version=4)
    # "python3" is the kernel ipykernel provides for the interpreter running
    # the tests; the notebook's folder is its working directory, as in Jupyter,
    # so its "../data/" paths resolve.
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()  # raises CellExecutionError on the first cell that fails

    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # Every figure of the walkthrough was shown as an image, not as a bare repr.
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 7
    texts = [o.get("data", {}).get("text/plain", "") for o in outputs]
    assert any(t.startswith("<Trace run ['sh', '-c', 'seq 1 50000") for t in texts)
