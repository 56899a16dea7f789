"""Shared helpers for the benchmark scripts: timing whole commands, peak RSS, machine facts."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    libs = {}
    for name in ("asset-pipeline", "pillow", "numpy", "scikit-image", "imagehash", "pyvips", "pyvips-binary"):
        try:
            libs[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    load = os.getloadavg()
    return {
        "python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
        "loadavg_1m": round(load[0], 2), "libraries": libs,
    }


def run_timed(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[float, int, subprocess.CompletedProcess[str]]:
    """Wall seconds and peak RSS (KiB, of the largest child process) of one command."""
    full_env = {**os.environ, "CI": "true", **(env or {})}
    wrapped = [sys.executable, str(Path(__file__).with_name("_rss.py")), *cmd]
    t0 = time.perf_counter()
    proc = subprocess.run(wrapped, capture_output=True, text=True, env=full_env, cwd=cwd)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0,):
        sys.stderr.write(proc.stderr)
        msg = f"command failed ({proc.returncode}): {' '.join(cmd)}"
        raise RuntimeError(msg)
    peak = int(proc.stderr.rsplit("PEAK_RSS_KIB=", 1)[-1].strip())
    return wall, peak, proc


def child_usage(proc: subprocess.CompletedProcess[str]) -> dict[str, float]:
    """User and system CPU seconds and minor page faults of a `run_timed` command's process tree."""
    user, system, faults = proc.stderr.rsplit("CPU=", 1)[-1].split("\n", 1)[0].split(",")
    return {"user_s": float(user), "sys_s": float(system), "minflt": int(faults)}


def compile_package() -> None:
    """Byte-compile the package, as `pip install` does for an installed copy.

    An editable checkout run with PYTHONDONTWRITEBYTECODE=1 (some CI images and sandboxes set
    it) otherwise compiles every module from source in every process, workers included: 0.17 s
    of a 2.5 s build here, which no installed user pays. Timed commands then measure the tool,
    not the compiler.
    """
    import compileall

    compileall.compile_dir(str(REPO / "asset_pipeline"), quiet=1)


def median(values: list[float]) -> float:
    return statistics.median(values)


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=2, sort_keys=True) + "\n")
    return path


def cli() -> list[str]:
    return [sys.executable, "-m", "asset_pipeline"]
