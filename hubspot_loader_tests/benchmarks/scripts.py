"""Import a benchmark script from ``benchmarks/`` (not a package) by its path, once per test session."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def benchmark_module(filename: str) -> ModuleType:
    """Return ``benchmarks/<filename>`` as a module (cached in ``sys.modules`` under a private name)."""
    name = f"hubspot_loader_bench_{Path(filename).stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / filename)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
