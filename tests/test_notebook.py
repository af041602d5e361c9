"""notebooks/flights.ipynb runs end to end in a fresh kernel of this Python (nbclient).

The kernel is this interpreter (``sys.executable``, the venv's Python with framesig and
ipykernel installed), given to Jupyter as a kernelspec in a temporary ``JUPYTER_PATH``, so
that neither a system-wide ``python3`` kernel nor the user's Jupyter and IPython folders
take part.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "flights.ipynb"
KERNEL = "framesig-test"


def _need(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail(f"{module} is missing: scripts/test.sh installs the notebook extra")
        pytest.skip(f"{module} is not installed (pip install -e '.[notebook]')")


def test_the_notebook_runs_end_to_end(tmp_path, monkeypatch):
    nbformat = _need("nbformat")
    nbclient = _need("nbclient")
    _need("ipykernel")
    _need("matplotlib")
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "framesig (this Python)",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # the paths of jupyter_core 6, no warning
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))

    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=240,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell

    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    pngs = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pngs) >= 4  # timelines, similarity, the patrol, the profile
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "all checks passed" in text
    assert "farm_tour vs farm_tour again: similarity" in text
