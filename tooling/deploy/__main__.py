"""``python -m tooling.deploy [--dry-run] [--outputs FILE] [--pin NAME=N ...] [--only FN ...]``

Deploys every function that has a folder under ``functions/``, as ``infra/functions.json`` and
the Terraform outputs describe it. ``--dry-run`` prints the exact commands and calls nothing.
Without ``--outputs`` the outputs come from ``terraform -chdir=infra output -json``.
"""

import argparse
import os
import shutil

# gcloud and terraform run with argument lists, never through a shell.
import subprocess  # nosec B404
import sys
from collections.abc import Sequence
from pathlib import Path

from tooling.deploy import plan, spec, stage


def _outputs(path: str | None) -> dict[str, object]:
    if path:
        return plan.read_outputs(Path(path).read_text())
    terraform = shutil.which("terraform")
    if terraform is None:
        raise plan.PlanError("terraform is not on PATH; give the outputs with --outputs FILE")
    result = subprocess.run(  # noqa: S603  # nosec B603
        [terraform, f"-chdir={spec.ROOT / 'infra'}", "output", "-json"],
        check=True,
        capture_output=True,
        text=True,
    )
    return plan.read_outputs(result.stdout)


def _pins(values: Sequence[str]) -> dict[str, str]:
    pins: dict[str, str] = {}
    for value in values:
        for item in value.split():
            name, sep, version = item.partition("=")
            if not sep:
                raise plan.PlanError(f"--pin takes NAME=VERSION, not {item!r}")
            pins[name] = version
    return pins


def run(steps: Sequence[plan.Step]) -> None:
    """Run each step in order, substituting captured values; stop at the first failure."""
    captured: dict[str, str] = {}
    for step in steps:
        argv = [plan.substitute(word, captured) for word in step.argv]
        argv[0] = shutil.which(argv[0]) or argv[0]
        print(f"+ {step.render()}", flush=True)
        result = subprocess.run(  # noqa: S603  # nosec B603
            argv, check=True, capture_output=step.capture is not None, text=True
        )
        if step.capture:
            captured[step.capture] = result.stdout.strip()
            if not captured[step.capture]:
                raise plan.PlanError(f"{step.render()} printed nothing")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.deploy", description=__doc__)
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    parser.add_argument("--outputs", help="a file holding `terraform output -json`")
    parser.add_argument("--pin", action="append", default=[], help="NAME=VERSION, overrides")
    parser.add_argument("--only", action="append", help="deploy only this function")
    args = parser.parse_args(argv)
    try:
        functions = spec.load()
        present = {n for n, f in functions.functions.items() if (f.folder / "main.py").is_file()}
        if args.only:
            unknown = set(args.only) - present
            if unknown:
                raise plan.PlanError(f"no such function folder: {', '.join(sorted(unknown))}")
            present = set(args.only)
        deploy = plan.build(functions, _outputs(args.outputs), _pins(args.pin), present)
    except (plan.PlanError, OSError, subprocess.CalledProcessError, ValueError) as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(deploy.render())
        return 0
    for name in deploy.staged:
        stage.stage(functions.functions[name], plan.source_dir(name))
    try:
        run(deploy.steps)
    except (subprocess.CalledProcessError, plan.PlanError) as exc:
        print(f"deploy: stopped: {exc}", file=sys.stderr)
        return 1
    print("deployed: " + ", ".join(deploy.staged), file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.chdir(spec.ROOT)
    sys.exit(main())
