"""A build directory per function: its ``main.py``, the ``shared`` library and the pinned runtime
requirements, and nothing else (no doubles, tests, operator tooling or caches)."""

import shutil
from pathlib import Path

from tooling.deploy.spec import ROOT, Function

# Byte-code caches never ship; everything else in shared/ is the runtime library.
LEFT_OUT = ("__pycache__", "*.pyc")


def stage(fn: Function, target: Path, root: Path = ROOT) -> Path:
    """Fill ``target`` (emptied first) with what ``gcloud functions deploy --source`` uploads."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copy2(root / "functions" / fn.name / "main.py", target / "main.py")
    shutil.copy2(root / "requirements.txt", target / "requirements.txt")
    shutil.copytree(root / "shared", target / "shared", ignore=shutil.ignore_patterns(*LEFT_OUT))
    return target
