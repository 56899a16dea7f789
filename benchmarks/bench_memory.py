"""Peak memory of a build whose icon is a 60-megapixel JPEG or PNG, against the decoded size.

    python -m benchmarks.bench_memory              # 9000x6700 sources (about 60 MP)
    python -m benchmarks.bench_memory --quick      # 3000x2234, for a smoke run

Each build runs in its own process (`python -m asset_pipeline build --jobs 1`, a fresh cache),
sampled every 5 ms through /proc (the resident set of the process and any children, summed),
and the kernel's own high-water mark (wait4's ru_maxrss) is reported too. The same build with a
1200x1200 icon gives the baseline: what the interpreter, Pillow, numpy, scikit-image and the
encoders cost before any big image is decoded. "Decoded size" is width x height x 3 bytes;
Pillow itself holds RGB at 4 bytes a pixel, so a full decode alone is 1.33x that.

Sources are generated once (photo-like: smooth colour fields, edges and film grain) and
cached under benchmarks/.cache/ (git-ignored). Linux only (/proc).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import PIL
from PIL import Image, ImageDraw, ImageFilter

CACHE = Path(__file__).resolve().parent / ".cache" / "huge"
FULL = (9000, 6700)
QUICK = (3000, 2234)


def photo_like(size: tuple[int, int], seed: int = 0) -> Image.Image:
    """A large photo-like RGB image made cheaply: a small painted scene upscaled, plus grain."""
    w, h = size
    rng = np.random.default_rng(seed)
    sw, sh = max(64, w // 8), max(48, h // 8)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    base = np.stack(
        [120 + 90 * np.sin(xx / sw * 5 + 1) * np.cos(yy / sh * 3), 110 + 80 * np.cos(xx / sw * 3 - yy / sh * 4), 100 + 100 * np.sin((xx + yy) / (sw + sh) * 7)],
        axis=-1,
    )
    small = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(small)
    for _ in range(60):  # hard-edged shapes: the detail a resampler must keep
        x0, y0 = int(rng.integers(0, sw)), int(rng.integers(0, sh))
        r = int(rng.integers(3, max(4, sw // 10)))
        draw.ellipse((x0 - r, y0 - r, x0 + r, y0 + r), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    big = small.filter(ImageFilter.GaussianBlur(0.6)).resize((w, h), Image.Resampling.BICUBIC)
    # film grain, strip by strip so generating a 60 MP image stays cheap in memory
    out = Image.new("RGB", (w, h))
    rows = max(1, (1 << 22) // w)
    for y in range(0, h, rows):
        strip = np.asarray(big.crop((0, y, w, min(h, y + rows))), dtype=np.int16)
        grain = rng.normal(0, 6, strip.shape[:2])[..., None].astype(np.int16)
        out.paste(Image.fromarray(np.clip(strip + grain, 0, 255).astype(np.uint8)), (0, y))
    return out


def ensure_sources(size: tuple[int, int]) -> dict[str, Path]:
    """The JPEG and PNG sources of `size` (and the small baseline icon), generated once."""
    CACHE.mkdir(parents=True, exist_ok=True)
    w, h = size
    paths = {"jpeg": CACHE / f"photo_{w}x{h}.jpg", "png": CACHE / f"photo_{w}x{h}.png", "baseline": CACHE / "photo_1200x1200.jpg"}
    if not all(p.exists() for p in paths.values()):
        im = photo_like(size)
        if not paths["jpeg"].exists():
            im.save(paths["jpeg"], quality=92)
        if not paths["png"].exists():
            im.save(paths["png"], compress_level=1)
        del im
        photo_like((1200, 1200), seed=1).save(paths["baseline"], quality=92)
    return paths


def _tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and its descendants, from /proc."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def measure(args: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run `args`; return wall seconds, polled peak RSS of the tree and the kernel's max RSS."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while True:
        done, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if done:
            break
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.005)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode not in (0,):
        msg = f"{' '.join(args)} failed ({proc.returncode}): {err[-500:]}"
        raise RuntimeError(msg)
    return {"seconds": time.perf_counter() - start, "peak_rss": float(peak), "ru_maxrss": float(usage.ru_maxrss * 1024)}


def build_with_icon(icon: Path, *, preset: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-mem-") as tmp:
        root = Path(tmp) / "proj"
        root.mkdir()
        # a symlink leading out of the project is refused (by design): hard-link or copy the source in
        dest = root / f"icon{icon.suffix}"
        if os.stat(icon).st_dev == os.stat(root).st_dev:
            os.link(icon, dest)
        else:
            _copy(icon, dest)
        env = {**os.environ, "CI": "true", "ASSET_PIPELINE_CACHE_DIR": str(Path(tmp) / "cache"), "ASSET_PIPELINE_LOG_DIR": str(Path(tmp) / "log")}
        args = [sys.executable, "-m", "asset_pipeline", "build", str(root), "-o", str(Path(tmp) / "out"), "--jobs", "1", "--preset", preset, "--no-cache"]
        return measure(args, env)


def _copy(src: Path, dst: Path) -> None:
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        while chunk := fi.read(1 << 24):
            fo.write(chunk)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3000x2234 sources instead of 9000x6700")
    ap.add_argument("--preset", default="fast", help="build preset (the encoder only sees the 1024 icon)")
    ap.add_argument("--repeat", type=int, default=2, help="runs per source; the lowest peak is kept")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    ns = ap.parse_args(argv)
    size = QUICK if ns.quick else FULL
    if ns.generate_only:
        ensure_sources(size)
        return 0
    # generate in a child: a forked build would otherwise inherit this process's big pages
    # into its kernel high-water mark (ru_maxrss survives exec)
    subprocess.run([sys.executable, "-m", "benchmarks.bench_memory", "--generate-only", *(["--quick"] if ns.quick else [])], check=True)
    paths = ensure_sources(size)
    w, h = size
    decoded = w * h * 3
    results: dict[str, dict[str, float]] = {}
    for name in ("baseline", "jpeg", "png"):
        runs = [build_with_icon(paths[name], preset=ns.preset) for _ in range(ns.repeat)]
        results[name] = min(runs, key=lambda r: r["peak_rss"])
    base = results["baseline"]["peak_rss"]
    report = {
        "machine": {"python": platform.python_version(), "pillow": PIL.__version__, "numpy": np.__version__, "cpus": os.cpu_count(), "note": "2 shared vCPUs; other jobs running"},
        "source": {"width": w, "height": h, "megapixels": round(w * h / 1e6, 1), "decoded_bytes": decoded, "pillow_rgb_bytes": w * h * 4},
        "runs": {
            name: {
                **{k: round(v / 2**20, 1) if k != "seconds" else round(v, 2) for k, v in r.items()},
                "peak_over_decoded": round(r["peak_rss"] / decoded, 3),
                "peak_minus_baseline_over_decoded": round((r["peak_rss"] - base) / decoded, 3) if name != "baseline" else None,
            }
            for name, r in results.items()
        },
    }
    if ns.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"source {w}x{h} ({w * h / 1e6:.1f} MP), decoded size {decoded / 2**20:.0f} MiB (w*h*3); Pillow RGB {w * h * 4 / 2**20:.0f} MiB")
    print(f"{'icon source':<12} {'wall s':>7} {'peak RSS MiB':>13} {'ru_maxrss MiB':>14} {'peak/decoded':>13} {'(peak-base)/decoded':>20}")
    for name, r in report["runs"].items():
        extra = r["peak_minus_baseline_over_decoded"]
        print(f"{name:<12} {r['seconds']:>7.2f} {r['peak_rss']:>13.1f} {r['ru_maxrss']:>14.1f} {r['peak_over_decoded']:>13.3f} {extra if extra is not None else '-':>20}")
    print(f"machine: {report['machine']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
