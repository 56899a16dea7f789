"""Recall and cost of the lint's code scan (`lint.find_codes`) over many kinds of code, and over
ways of running zxing-cpp that cost less.

    .venv/bin/python -m benchmarks.code_scan_eval [--per-cell 2] [--scans current,...]

Positives: codes of 12 symbologies (QR, Micro QR, rMQR, Data Matrix, Aztec, PDF417, EAN-13,
UPC-A, Code 128, Code 39, ITF, DataBar), each drawn at 1.25-4 px per module, turned 0, 90, 180
or 270 degrees or by 20, dark on light and light on dark, pasted with LANCZOS (so the module edges
are as soft as a resampled source makes them), and at 4-10 px per module blurred and noisy (lost
items marked "s"), into `--per-cell` (2) of the `large` corpus's 1024
icons and 360 thumbnails (the pipeline's own render, `--preset fast`). Negatives: those 20 renders
as they are, and the `small` corpus's. Every scan is run on the same images; a scan's "lost"
column counts the positives the current scan finds and it does not: a cheaper scan is only an
option when it loses none of them and finds nothing in the negatives. The cost is the summed
best-of-3 time of the scan over the 20 clean renders (what a build pays).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageFilter

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from asset_pipeline import lint  # noqa: E402
from benchmarks._util import write_result  # noqa: E402
from benchmarks.corpus import ensure_corpus  # noqa: E402

CONTENT = {
    "QRCode": "https://example.com/starfall/get?ref=icon",
    "MicroQRCode": "STAR26",
    "RMQRCode": "https://ex.com/sf",
    "DataMatrix": "https://example.com/starfall",
    "Aztec": "https://example.com/starfall",
    "PDF417": "STARFALL-2026-PROMO",
    "EAN13": "400638133393",
    "UPCA": "03600029145",
    "Code128": "STARFALL-2026",
    "Code39": "STAR2026",
    "ITF": "12345678901234",
    "DataBar": "0123456789012",
}
LINEAR = ("EAN13", "UPCA", "Code128", "Code39", "ITF", "DataBar")
PPM = (1.25, 1.5, 2.0, 2.5, 3.0, 4.0)  # pixels per module at the target size
TURNS = (0, 90, 180, 270, 20)
SOFT_PPM = (4.0, 6.0, 10.0)  # larger codes, blurred (sigma 0.3 module) and noisy (sigma 12 levels)
BAR_HEIGHT = 0.12  # 1D codes: bar height as a share of the side


@dataclass(frozen=True)
class Positive:
    fmt: str
    ppm: float
    turn: int
    inverted: bool
    size: int
    soft: bool
    gray: np.ndarray = field(repr=False, compare=False)

    @property
    def family(self) -> str:
        return "qr" if self.fmt in ("QRCode", "MicroQRCode", "RMQRCode") else "other"


def _code(fmt: str) -> np.ndarray:
    import zxingcpp

    bc = zxingcpp.create_barcode(CONTENT[fmt], getattr(zxingcpp.BarcodeFormat, fmt))
    a = np.asarray(zxingcpp.write_barcode_to_image(bc, scale=1))
    return np.pad(a, 2, constant_values=255)  # a quiet zone where the writer leaves none (Aztec)


def _stamp(code: np.ndarray, fmt: str, ppm: float, size: int, turn: int, inverted: bool) -> tuple[Image.Image, Image.Image]:
    """The code at `ppm` px/module, soft-edged, turned; and the mask of where it lies."""
    linear = fmt in LINEAR  # the writer draws these as 50 rows of one row: one row, stretched to BAR_HEIGHT
    row = code[code.shape[0] // 2 : code.shape[0] // 2 + 1] if linear else code
    big = Image.fromarray(row).resize((row.shape[1] * 8, row.shape[0] * 8 if not linear else 8), Image.Resampling.NEAREST)
    w = max(1, round(row.shape[1] * ppm))
    h = max(1, round(size * BAR_HEIGHT)) if linear else max(1, round(row.shape[0] * ppm))
    stamp = big.resize((w, h), Image.Resampling.LANCZOS)
    if inverted:
        stamp = Image.eval(stamp, lambda v: 255 - v)
    mask = Image.new("L", stamp.size, 255)
    if turn:
        stamp = stamp.rotate(turn, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=0 if inverted else 255)
        mask = mask.rotate(turn, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=0)
    return stamp, mask


def positives(backgrounds: list[np.ndarray], per_cell: int, seed: int = 7) -> list[Positive]:
    rnd = random.Random(seed)
    out = []
    for fmt in CONTENT:
        code = _code(fmt)
        for ppm in PPM:
            for turn in TURNS:
                for inverted in (False, True):
                    for bg in rnd.sample(backgrounds, per_cell):
                        size = bg.shape[0]
                        stamp, mask = _stamp(code, fmt, ppm, size, turn, inverted)
                        if max(stamp.size) > 0.9 * size:
                            continue
                        art = Image.fromarray(bg)
                        x = rnd.randrange(size // 20, size - stamp.width - size // 20 + 1)
                        y = rnd.randrange(size // 20, size - stamp.height - size // 20 + 1)
                        art.paste(stamp, (x, y), mask)
                        out.append(Positive(fmt, ppm, turn, inverted, size, False, np.asarray(art)))
        for ppm in SOFT_PPM:  # what zxing's downscaled passes are for
            for bg in rnd.sample(backgrounds, per_cell):
                size = bg.shape[0]
                stamp, mask = _stamp(code, fmt, ppm, size, 0, False)
                if max(stamp.size) > 0.9 * size:
                    continue
                art = Image.fromarray(bg)
                art.paste(stamp.filter(ImageFilter.GaussianBlur(0.3 * ppm)), (size // 20, size // 20), mask)
                grain = np.random.default_rng(rnd.randrange(1 << 30)).normal(0, 12, (size, size))
                noisy = np.asarray(art).astype(np.int16) + grain.astype(np.int16)
                out.append(Positive(fmt, ppm, 0, False, size, True, np.clip(noisy, 0, 255).astype(np.uint8)))
    return out


def renders(kind: str) -> list[Image.Image]:
    """The corpus `kind`'s renditions as throughput.py's build makes them (fast preset): each
    source's 1024 icon and 360 thumbnail."""
    from asset_pipeline import work
    from asset_pipeline.config import load_preset
    from asset_pipeline.project import hash_file
    from asset_pipeline.records import RenderSpec, SourceFile

    preset = load_preset("fast")
    roles: tuple[tuple[Literal["icon", "thumbnail"], int], ...] = (("icon", 1024), ("thumbnail", 360))
    specs = [RenderSpec(role=role, width=s, height=s, fit="cover", background=(255, 255, 255), formats=("JPEG", "PNG"),
                        max_bytes=5 << 20, lint=()) for role, s in roles]
    out = []
    for path in sorted(ensure_corpus(kind)):
        sha, size = hash_file(path)
        src = SourceFile(path=path, rel=path.name, sha256=sha, size=size)
        loaded = work._load(src, work.decode_plan(tuple(specs), preset), preset)
        out += [work._render(loaded, spec, preset).image for spec in specs]
    return out


def clean_renders() -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The `large` and `small` corpora's renditions as the code scan reads them: flattened luma."""
    from asset_pipeline.quality import flatten

    def luma(kind: str) -> list[np.ndarray]:
        return [np.asarray(flatten(im, (255, 255, 255)).convert("L")) for im in renders(kind)]

    return luma("large"), luma("small")


Scan = Callable[[np.ndarray], set[str]]


def _names(results: list) -> set[str]:  # type: ignore[type-arg]
    return {r.format.name for r in results}


def scans() -> dict[str, Scan]:
    import zxingcpp

    F = zxingcpp.BarcodeFormat

    def fs(*names: str) -> zxingcpp.BarcodeFormats:
        return zxingcpp.BarcodeFormats([getattr(F, n) for n in names])

    qr = ("QRCode", "MicroQRCode", "RMQRCode")
    qr_linear = fs(*qr, "AllLinear")

    def current(g: np.ndarray) -> set[str]:
        return {name for name, _, _ in lint.find_codes(Image.fromarray(g))}

    def pass2(g: np.ndarray, found: set[str], formats: zxingcpp.BarcodeFormats = qr_linear,
              up: Callable[[np.ndarray], np.ndarray] = lint._double, try_invert: bool = True) -> set[str]:
        return found | _names(zxingcpp.read_barcodes(up(g), formats=formats, try_downscale=False, try_rotate=False,
                                                     try_invert=try_invert))

    def make(p1: dict[str, Any], p2: zxingcpp.BarcodeFormats | None = qr_linear, gate: bool = False,
             up: Callable[[np.ndarray], np.ndarray] = lint._double, try_invert: bool = True) -> Scan:
        def scan(g: np.ndarray) -> set[str]:
            res = zxingcpp.read_barcodes(g, return_errors=gate, **p1)
            found = {r.format.name for r in res if not r.error}
            if p2 is None or (gate and not any(r.error for r in res)):
                return found
            return pass2(g, found, p2, up, try_invert)
        return scan

    def pil(factor: float, how: Image.Resampling) -> Callable[[np.ndarray], np.ndarray]:
        def up(g: np.ndarray) -> np.ndarray:
            h, w = g.shape
            return np.asarray(Image.fromarray(g).resize((round(w * factor), round(h * factor)), how))
        return up

    def nearest2(g: np.ndarray) -> np.ndarray:
        return np.repeat(np.repeat(g, 2, axis=0), 2, axis=1)

    qr_only = fs(*qr)
    variants = {  # each a way of running zxing-cpp that costs less than find_codes
        "pass1_only": make({}, None),  # no 2x pass
        "errors_gate": make({}, gate=True),  # the 2x pass only when pass 1 saw a code it could not read
        "p1_norotate": make({"try_rotate": False}),
        "p1_noinvert": make({"try_invert": False}),
        "p1_nodownscale": make({"try_downscale": False}),
        "p1_noinv_p2_noinv": make({"try_invert": False}, try_invert=False),
        "p2_noinvert": make({}, try_invert=False),
        "p2_qr_only": make({}, qr_only),
        "p2_linear_only": make({}, fs("AllLinear")),
        "p2_x1.5_bilinear": make({}, up=pil(1.5, Image.Resampling.BILINEAR)),  # Pillow, not _double
        "p2_x1.5_bicubic": make({}, up=pil(1.5, Image.Resampling.BICUBIC)),
        "p2_x2_nearest": make({}, up=nearest2),
        "qr_family_only": make({"formats": qr_only}, qr_only),  # what SPEC 5 asks for, nothing else
    }
    return {"current": current, **variants}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-cell", type=int, default=2)
    ap.add_argument("--scans", default="")
    args = ap.parse_args(argv)
    large, small = clean_renders()
    pos = positives(large, args.per_cell)
    table = scans()
    chosen = [s for s in args.scans.split(",") if s] or list(table)
    if "current" not in chosen:
        chosen.insert(0, "current")
    found: dict[str, list[set[str]]] = {}
    lines = [f"{len(pos)} positives, {len(large) + len(small)} negatives"]
    for name in chosen:
        scan = table[name]
        best = [min(_timed(scan, g) for _ in range(3)) for g in large]
        hits = [scan(p.gray) for p in pos]
        found[name] = hits
        false = sum(bool(scan(g)) for g in large + small)
        base = found["current"]
        lost = sum(1 for p, h, c in zip(pos, hits, base, strict=True) if _hit(p, c) and not _hit(p, h))
        gained = sum(1 for p, h, c in zip(pos, hits, base, strict=True) if _hit(p, h) and not _hit(p, c))
        by: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for p, h in zip(pos, hits, strict=True):
            by[p.family][0] += _hit(p, h)
            by[p.family][1] += 1
        lines.append(f"{name:16s} cost {sum(best) * 1000:7.1f} ms  qr {by['qr'][0]}/{by['qr'][1]}  other {by['other'][0]}/{by['other'][1]}"
                     f"  lost {lost}  gained {gained}  false positives {false}")
        print(lines[-1], flush=True)
        missed: dict[str, int] = defaultdict(int)
        for p, h, c in zip(pos, hits, base, strict=True):
            if _hit(p, c) and not _hit(p, h):
                missed[f"{p.fmt}@{p.ppm}/{p.turn}{'i' if p.inverted else ''}{'s' if p.soft else ''}/{p.size}"] += 1
        if missed:
            lines.append("    lost: " + ", ".join(f"{k} x{v}" if v > 1 else k for k, v in sorted(missed.items())))
            print(lines[-1], flush=True)
    cur = found["current"]
    cells: dict[tuple[str, float | int | bool, str], list[int]] = defaultdict(lambda: [0, 0])
    for p, h in zip(pos, cur, strict=True):
        for axis, v in (("ppm", p.ppm), ("turn", p.turn), ("inv", p.inverted)):
            cells[(p.fmt, v, axis)][0] += _hit(p, h)
            cells[(p.fmt, v, axis)][1] += 1
    for fmt in CONTENT:
        parts = [f"{axis}={v}: {cells[(fmt, v, axis)][0]}/{cells[(fmt, v, axis)][1]}"
                 for axis, vals in (("ppm", PPM), ("turn", TURNS)) for v in vals if cells[(fmt, v, axis)][1]]
        lines.append(f"current, {fmt}: " + ", ".join(parts))
        print(lines[-1])
    write_result("code_scan_eval", {"lines": lines})
    return 0


def _hit(p: Positive, names: set[str]) -> bool:
    """zxing names a UPC-A "EAN13" and a DataBar by its variant."""
    want = {"UPCA": "EAN13"}.get(p.fmt, p.fmt)
    return any(n.startswith(want) for n in names)


def _timed(scan: Scan, g: np.ndarray) -> float:
    t = time.perf_counter()
    scan(g)
    return time.perf_counter() - t


if __name__ == "__main__":
    raise SystemExit(main())
