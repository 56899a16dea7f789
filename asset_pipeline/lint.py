"""Lint the art against the portal's content rules a machine can tell (SPEC section 5, issue 9).

The portal's newer Basic information page and the For You feed cards reject icons with
rounded corners, watermarks or QR codes, and ask for a clear image. Every check here is a
pure function over an image at its target size; each returns `Finding` records with a
stable code and the measured value, so an artist can judge. A profile's `[lint]` table sets
each code to "warning" (default), "error" (the build exits 1) or "off".

| code                | role            | rule (the thresholds are measured in benchmarks/lint_eval.py) |
| ------------------- | --------------- | ------------------------------------------------------------- |
| transparent_corners | icon, thumbnail | >= 1/8 of the four corner patches (side/32 squares) not opaque |
| rounded_corners     | icon, thumbnail | >= 3 corners hold a flat (or transparent) region shaped like a rounded-rect corner |
| qr_code, barcode    | icon, thumbnail | zxing-cpp decodes a code (QR/Micro QR/rMQR, or, where the profile turns `barcode` on, any other symbology) |
| blur                | icon, thumbnail | edge sharpness < BLUR_MIN_SHARPNESS (art without edges is not judged) |
| upscaled            | icon, thumbnail | emitted by render.py (source short side below the target); levelled here |
| safe_area           | icon            | a corner outside the inscribed circle is >= SAFE_AREA_MAX_DENSITY hard-edged detail |
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .config import LINT_CODES, Profile, default_level
from .order_stats import median, percentile
from .quality import flatten
from .records import Finding, RenderSpec, SourceFile

# --- thresholds (see benchmarks/lint_eval.py for the sweep that picked each one) --------------

TRANSPARENT_ALPHA = 250  # alpha below this is "not opaque": the client shows what lies behind
TRANSPARENT_MIN_SHARE = 0.125  # half of one corner patch, or more

CORNER_TOLERANCE = 24  # per-channel distance from the corner colour that still counts as "that colour"
ROUNDED_MIN_RADIUS = 0.02  # of the side: below this a corner is square to the eye
ROUNDED_MIN_CORNERS = 3  # a badge or sticker may cover one corner
ROUNDED_SIDE = 512  # corners of larger images are judged on a grid of at least this many samples

BLUR_MIN_CONTRAST = 0.12  # luma range (0-1) in a 5x5 window for a pixel to count as an edge
BLUR_PERCENTILE = 90  # judge the art by its crisper edges: bokeh around a sharp subject is fine
BLUR_MIN_SHARPNESS = 0.46  # sharp art measured >= 0.51, Gaussian sigma 2 / 3x upscales <= 0.42

SAFE_AREA_SIDE = 128  # analysis size: hard edges at this scale are features >= ~1% of the side
SAFE_AREA_STEP = 0.35  # a luma step this big between neighbours is a hard edge (text, outline)
SAFE_AREA_MAX_DENSITY = 0.12  # clean corpus corners measured <= 0.09; sprites/captions >= 0.14

_QR_FORMATS = ("QRCode", "MicroQRCode", "RMQRCode")
DOUBLE_ROWS = 128  # rows of the luma doubled at a time for the QR 2x pass
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


# --- levels --------------------------------------------------------------------------------


def apply_levels(findings: Iterable[Finding], levels: Iterable[tuple[str, str]]) -> tuple[Finding, ...]:
    """Drop findings whose code is off; mark those the profile makes errors. Other codes pass."""
    table = dict(levels)
    out = []
    for f in findings:
        level = table.get(f.code, default_level(f.code)) if f.code in LINT_CODES else f.level
        if level == "off":
            continue
        out.append(f if level == f.level else dataclasses.replace(f, level="error" if level == "error" else "warning"))
    return tuple(out)


def enabled(levels: Iterable[tuple[str, str]]) -> frozenset[str]:
    table = dict(levels)
    return frozenset(c for c in LINT_CODES if table.get(c, default_level(c)) != "off")


# --- measurements --------------------------------------------------------------------------


def _luma(image: Image.Image) -> np.ndarray:
    """Rec. 601 luma of an opaque RGB image, float32 in 0-1."""
    return np.asarray(image, dtype=np.float32) @ _LUMA / 255.0


def luma8(image: Image.Image) -> np.ndarray:
    """Rec. 601 luma of an opaque RGB image as 8 bits (Pillow's "L"): what `sharpness` measures."""
    return np.asarray(image.convert("L"))


def sharpness(luma: np.ndarray) -> float | None:
    """Edge sharpness: at edge peaks, the steepest one-pixel step over the local 5x5 contrast.

    A hard step measures 1.0, an anti-aliased edge ~0.5-0.8, a Gaussian blur of sigma 2 px
    ~0.2-0.3. It is independent of contrast and of how much of the art is edges, so flat art
    with few crisp edges is not "blurry". The 90th percentile judges the crisper edges.
    None when the art has too few edges (smooth gradients) to judge.

    `luma` is 8-bit (`luma8`): the steps and windows stay 8-bit (|x - y| as max - min), 4x less
    memory traffic than float32 and 2x less than 16-bit, and only the peaks' ratios are
    computed in floating point.
    """
    step = np.zeros_like(luma)  # |forward difference| across and down, the larger (0 at the far edges)
    down = np.zeros_like(luma)
    for out, x, y in ((step[:, :-1], luma[:, 1:], luma[:, :-1]), (down[:-1], luma[1:], luma[:-1])):
        np.subtract(np.maximum(x, y), np.minimum(x, y), out=out)
    np.maximum(step, down, out=step)
    del down
    contrast = _window(luma, 5, np.maximum)
    contrast -= _window(luma, 5, np.minimum)  # uint8: max >= min, no wrap-around
    peaks = step >= _window(step, 3, np.maximum)
    peaks &= contrast >= round(BLUR_MIN_CONTRAST * 255)
    peaks &= step > 0
    n = int(np.count_nonzero(peaks))
    if n < max(50, 0.0005 * luma.size):
        return None
    ratio = step[peaks].astype(np.float32) / contrast[peaks]
    return percentile(ratio, BLUR_PERCENTILE)


def _window(a: np.ndarray, size: int, op: np.ufunc) -> np.ndarray:
    """Max or min over a size x size window (edges replicated), as separable in-place shifted ops.

    A window clipped at the border gives what edge replication would for max and min, so no
    padded copy is made; scipy.ndimage's rank filters take ~30 ms a pass on a 1024 image.
    """
    k = size // 2
    rows = a.copy()
    for d in range(1, k + 1):
        op(rows[d:], a[:-d], out=rows[d:])
        op(rows[:-d], a[d:], out=rows[:-d])
    out = rows.copy()
    for d in range(1, k + 1):
        op(out[:, d:], rows[:, :-d], out=out[:, d:])
        op(out[:, :-d], rows[:, d:], out=out[:, :-d])
    return out


def corner_transparency(image: Image.Image) -> float:
    """Share of the four corner patches (side/32 squares) that is not opaque."""
    if image.mode != "RGBA":
        return 0.0
    alpha = np.asarray(image.getchannel("A"))
    p = max(2, min(image.size) // 32)
    patches = [alpha[:p, :p], alpha[:p, -p:], alpha[-p:, :p], alpha[-p:, -p:]]
    return float(np.mean([np.mean(c < TRANSPARENT_ALPHA) for c in patches]))


def _corner_views(arr: np.ndarray) -> list[np.ndarray]:
    """The four quadrants, flipped so each image corner sits at [0, 0]."""
    h, w = arr.shape[:2]
    hh, hw = h // 2, w // 2
    return [arr[:hh, :hw], arr[:hh, -hw:][:, ::-1], arr[-hh:, :hw][::-1], arr[-hh:, -hw:][::-1, ::-1]]


def corner_radius(quadrant_bg: np.ndarray) -> float | None:
    """The radius (px) of a rounded-rect corner cut out of `quadrant_bg` at [0, 0], or None.

    `quadrant_bg` marks the outside region (background connected to the corner). A rounded
    corner of radius r leaves an outside region of area r^2(1 - pi/4) ~ 0.21r^2 (which gives
    r), running about r pixels along both edges (r - sqrt(r) on the pixel grid) and 0.3-0.4 of
    that along the diagonal. Square corners, chamfers (0.5 on the diagonal) and notches (1.0)
    do not fit that shape.
    """
    if not quadrant_bg[0, 0]:
        return None
    top, left = _run(quadrant_bg[0]), _run(quadrant_bg[:, 0])
    diag = _run(np.diagonal(quadrant_bg))
    edge = (top + left) / 2
    if edge < 2 or abs(top - left) > max(2.0, 0.25 * edge):
        return None
    r = float(np.sqrt(quadrant_bg[: top + 1, : left + 1].sum() / (1 - np.pi / 4)))
    if not 0.5 * r <= edge <= 1.15 * r:
        return None
    if not 0.2 * edge <= diag <= 0.45 * edge:
        return None
    return r


def _run(line: np.ndarray) -> int:
    """Length of the leading run of True values."""
    stops = np.flatnonzero(~line)
    return int(stops[0]) if stops.size else int(line.size)


def _outside(arr: np.ndarray) -> np.ndarray | None:
    """The background connected to the corners of `arr` (RGB or RGBA pixels; transparent, or one
    flat colour), or None.

    None when the corners are neither mostly transparent nor one flat colour: no mask was
    applied there, so nothing can be rounded.
    """
    rgba = arr.shape[2] == 4
    p = max(2, min(arr.shape[:2]) // 128)
    patches = [q[:p, :p] for q in _corner_views(arr)]
    if rgba and sum(float(np.mean(c[..., 3] < 128)) > 0.5 for c in patches) >= ROUNDED_MIN_CORNERS:
        bg = arr[..., 3] < 128
    else:
        rgb = [c[..., :3].reshape(-1, 3).astype(np.int16) for c in patches]
        seeds = [median(c, axis=0) for c in rgb]
        flat = [np.abs(c - s).max() <= CORNER_TOLERANCE for c, s in zip(rgb, seeds, strict=True)]
        seed = median(np.stack(seeds), axis=0)
        same = [f and np.abs(s - seed).max() <= CORNER_TOLERANCE for f, s in zip(flat, seeds, strict=True)]
        if sum(same) < ROUNDED_MIN_CORNERS:
            return None
        bg = np.abs(arr[..., :3].astype(np.int16) - seed).max(axis=-1) <= CORNER_TOLERANCE
        if rgba:
            bg &= arr[..., 3] >= 128
    reached = connected_to_corners(bg)
    return reached if reached.any() else None


def _row_runs(mask: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
    """An id for every run of True along the rows (unique over the array, 0 off the mask), their
    count, and where each run starts."""
    starts = mask.copy()
    starts[:, 1:] &= ~mask[:, :-1]
    lines = starts.sum(axis=1, dtype=np.int32)  # runs per row
    offsets = np.concatenate([[0], np.cumsum(lines[:-1], dtype=np.int32)])
    ids = np.cumsum(starts, axis=1, dtype=np.int32)
    ids += offsets[:, None]
    ids[~mask] = 0
    return ids, int(lines.sum()), starts


def connected_to_corners(mask: np.ndarray) -> np.ndarray:
    """The pixels of `mask` 4-connected to any of its corners (scipy.ndimage.label's default).

    The mask's row runs are the nodes of a graph whose edges join runs that touch in adjacent
    rows (one edge per stretch of columns where the same two runs meet). Its components come
    from union by smaller root with full path compression, vectorized: every round hooks each
    edge's two roots onto the smaller one, so the number of components left at least halves
    and a few rounds suffice whatever the region's shape. (Spreading whole row and column runs
    in turn, as before, needed one round per turn of a path: a maze or a spiral took 46-223 ms
    where this takes 1.5-4 (benchmarks/bench_lint.py); scipy's import alone would cost a worker 0.2 s and 15 MiB.)
    """
    h, w = mask.shape
    corners = ((0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1))
    if not any(mask[y, x] for y, x in corners):
        return np.zeros_like(mask)
    runs, n, starts = _row_runs(mask)
    touch = mask[:-1] & mask[1:]
    new = touch.copy()  # where a touching stretch begins: a run starts in either row, or the touch does
    new[:, 1:] &= ~touch[:, :-1] | starts[:-1, 1:] | starts[1:, 1:]
    a, b = runs[:-1][new], runs[1:][new]
    root = np.arange(n + 1, dtype=runs.dtype)
    while a.size:
        ra, rb = root[a], root[b]
        apart = ra != rb
        if not apart.any():
            break
        a, b, ra, rb = a[apart], b[apart], ra[apart], rb[apart]
        low = np.minimum(ra, rb)
        np.minimum.at(root, ra, low)
        np.minimum.at(root, rb, low)
        while True:  # compress: every run points at its component's root
            up = root[root]
            if np.array_equal(up, root):
                break
            root = up
    wanted = np.zeros(n + 1, dtype=bool)
    for y, x in corners:
        if mask[y, x]:
            wanted[root[runs[y, x]]] = True
    reached = wanted[root]
    reached[0] = False  # off the mask
    out: np.ndarray = reached[runs]
    return out


def every_kth(image: Image.Image, k: int) -> np.ndarray:
    """`np.asarray(image)[::k, ::k]`, without the copy of the whole image `np.asarray` makes:
    an affine NEAREST transform samples input pixel k * x (the half-pixel shift makes Pillow's
    centre-based sampling land on it). 0.3 instead of 2.3 ms for a 1024 RGBA rendition."""
    if k <= 1:
        return np.asarray(image)
    w, h = image.size
    size = ((w + k - 1) // k, (h + k - 1) // k)
    shift = 0.5 - k / 2
    return np.asarray(image.transform(size, Image.Transform.AFFINE, (k, 0, shift, 0, k, shift), Image.Resampling.NEAREST))


def rounded_radius(image: Image.Image) -> float | None:
    """The corner radius as a share of the art's side, when >= 3 corners look pre-rounded.

    The art is what the outside region (see `_outside`) does not cover; it may sit inset on a
    transparent or flat margin (an exported rounded-square icon). It must span >= 70 % of
    the image (a small rounded button on a field is art, not a mask), and the radius must be
    2-42 % of its side: a circle (50 %) is a round emblem, not rounded corners.
    """
    # judged on every k-th pixel of a large image: a 2 % radius is still >= 10 samples at 512,
    # and the flood fill costs 4x less than at 1024
    k = max(1, min(image.size) // ROUNDED_SIDE)
    arr = every_kth(image, k)
    outside = _outside(arr)
    if outside is None:
        return None
    rows, cols = np.flatnonzero(~outside.all(axis=1)), np.flatnonzero(~outside.all(axis=0))
    if rows.size == 0 or cols.size == 0:
        return None
    box = outside[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    side = min(box.shape)
    if side < 0.7 * min(arr.shape[:2]):
        return None
    radii = [r for q in _corner_views(box) if (r := corner_radius(q)) is not None]
    radii = [r for r in radii if ROUNDED_MIN_RADIUS * side <= r <= 0.42 * side]
    if len(radii) < ROUNDED_MIN_CORNERS:
        return None
    med = float(median(np.array(radii)))
    if sum(abs(r - med) <= 0.3 * med for r in radii) < ROUNDED_MIN_CORNERS:
        return None  # corners of different shapes: art, not a mask
    return float(med / side)


def safe_area_density(image: Image.Image) -> float:
    """Hard-edged detail in the four corners a circular mask would cut, the busiest corner's share.

    Measured on a SAFE_AREA_SIDE copy (box filter), so it reads the same at 600, 1024 or 360.
    """
    n = SAFE_AREA_SIDE
    luma = _luma((image if image.mode == "RGB" else image.convert("RGB")).resize((n, n), Image.Resampling.BOX))
    step = np.maximum(
        np.abs(np.diff(luma, axis=0, append=luma[-1:, :])), np.abs(np.diff(luma, axis=1, append=luma[:, -1:]))
    )
    hard = step > SAFE_AREA_STEP
    return max(float(hard[q].mean()) for q in _cut_corners(n))


@functools.lru_cache(maxsize=4)
def _cut_corners(n: int) -> tuple[np.ndarray, ...]:
    """The four pieces of an n x n square outside its inscribed circle."""
    yy, xx = np.mgrid[0:n, 0:n]
    outside = np.hypot(yy - (n - 1) / 2, xx - (n - 1) / 2) > n / 2
    top, left = yy < n / 2, xx < n / 2
    return (outside & top & left, outside & top & ~left, outside & ~top & left, outside & ~top & ~left)


def find_codes(image: Image.Image, *, qr_only: bool = False) -> list[tuple[str, str, tuple[int, int, int, int]]]:
    """(format name, display name, bounding box) of each QR code or barcode zxing-cpp decodes
    in `image` (opaque RGB, or its luma as "L"). `qr_only`: look for the QR family alone (where
    the profile turns `barcode` off), which costs a third of the full scan and finds the same
    QR codes (benchmarks/code_scan_eval.py, "QR family only").

    One pass over the luma at its size (every symbology), then a pass over a 2x bilinear copy
    for QR and 1D codes: a code resampled to 1.5-2.5 px per module is too soft for the first
    pass, and the 2x pass reads most of them (benchmarks/lint_eval.py). Matrix codes other
    than QR are left out of it: with them it took three times as long (154 vs 52 ms at 2048 px).
    The 2x pass does not try rotations (QR codes need none; the first pass reads turned 1D
    codes), and bilinear reads as many codes as bicubic here for 35 % less resize time.
    Every cheaper way to run zxing-cpp measured so far (no rotation, inversion or downscaled
    pass; a narrower or gated 2x pass; a 1.5x one) loses codes this finds:
    benchmarks/code_scan_eval.py.
    """
    import zxingcpp

    gray = np.asarray(image) if image.mode == "L" else luma8(image)
    found: dict[tuple[str, tuple[int, int, int, int]], str] = {}

    def collect(results: Iterable[Any], scale: int) -> None:
        for r in results:
            pts = [r.position.top_left, r.position.top_right, r.position.bottom_left, r.position.bottom_right]
            xs, ys = [p.x // scale for p in pts], [p.y // scale for p in pts]
            box = (min(xs), min(ys), max(xs), max(ys))
            if not any(name == r.format.name and _overlap(box, b) for name, b in found):
                found[(r.format.name, box)] = str(r.format)

    qr = [getattr(zxingcpp.BarcodeFormat, f) for f in _QR_FORMATS]
    if qr_only:
        collect(zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormats(qr)), 1)
        formats = zxingcpp.BarcodeFormats(qr)
    else:
        collect(zxingcpp.read_barcodes(gray), 1)
        formats = zxingcpp.BarcodeFormats([*qr, zxingcpp.BarcodeFormat.AllLinear])
    up = _double(gray)
    collect(zxingcpp.read_barcodes(up, formats=formats, try_downscale=False, try_rotate=False), 2)
    return [(name, label, box) for (name, box), label in found.items()]


def _double(gray: np.ndarray) -> np.ndarray:
    """`gray` at twice its size, bilinear (Pillow's sample positions, within one level of its
    resize): 3:1 blends of each pixel and its neighbours, in 16-bit integers, 2.5x faster.
    Made DOUBLE_ROWS input rows at a time, so only the 8-bit result is held at full size."""
    h, w = gray.shape
    up = np.empty((2 * h, 2 * w), np.uint8)
    for y0 in range(0, h, DOUBLE_ROWS):
        y1 = min(h, y0 + DOUBLE_ROWS)
        lo, hi = max(0, y0 - 1), min(h, y1 + 1)  # the neighbour rows, clamped as Pillow does
        rows = gray[lo:hi].astype(np.uint16)
        edge = np.empty((hi - lo, w + 2), np.uint16)
        edge[:, 1:-1], edge[:, 0], edge[:, -1] = rows, rows[:, 0], rows[:, -1]
        rows *= 3
        wide = np.empty((y1 - y0 + 2, 2 * w), np.uint16)  # the strip's rows doubled across, one above and below
        top = 1 if y0 == 0 else 0  # at the image's top (bottom) the row above (below) is the row itself
        np.add(rows, edge[:, :-2], out=wide[top : top + hi - lo, 0::2])
        np.add(rows, edge[:, 2:], out=wide[top : top + hi - lo, 1::2])
        if y0 == 0:
            wide[0] = wide[1]
        if y1 == h:
            wide[-1] = wide[-2]
        mid = wide[1:-1] * np.uint16(3)
        out = np.empty((2 * (y1 - y0), 2 * w), np.uint16)
        np.add(mid, wide[:-2], out=out[0::2])
        np.add(mid, wide[2:], out=out[1::2])
        out += 8
        out >>= 4
        up[2 * y0 : 2 * y1] = out
    return up


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


# --- the checks ------------------------------------------------------------------------------


def lint_image(
    image: Image.Image,
    *,
    role: str,
    source: str,
    background: tuple[int, int, int] = (255, 255, 255),
    checks: Iterable[str] = LINT_CODES,
    flat: Image.Image | None = None,
    gray: Image.Image | None = None,
) -> list[Finding]:
    """Run the enabled checks on `image` (RGB or RGBA, at its target size), as warnings.

    `flat`: `image` flattened onto `background`, when the caller has it already.
    """
    todo = set(checks)
    out: list[Finding] = []
    if min(image.size) < 16:
        return out  # too small to have corners, codes or edges worth measuring
    if "transparent_corners" in todo:
        share = corner_transparency(image)
        if share >= TRANSPARENT_MIN_SHARE:
            out.append(Finding(
                code="transparent_corners", source=source, value=round(share, 3),
                message=f"{share:.0%} of the corner pixels are transparent: the portal shows them on an unknown background (flatten the art, or use a JPEG)",
            ))
    if "rounded_corners" in todo:
        radius = rounded_radius(image)
        if radius is not None:
            out.append(Finding(
                code="rounded_corners", source=source, value=round(radius, 3),
                message=f"corners look pre-rounded (radius {radius:.0%} of the art's side): the portal rejects rounded corners; give square, full-bleed art",
            ))
    if flat is None:
        flat = flatten(image, background) if todo & {"qr_code", "barcode", "blur", "safe_area"} else image
    if gray is None and todo & {"qr_code", "barcode", "blur"}:
        gray = flat.convert("L")  # read by both checks
    if gray is not None and todo & {"qr_code", "barcode"}:
        area = float(image.width * image.height)
        for name, label, (x0, y0, x1, y1) in sorted(find_codes(gray, qr_only="barcode" not in todo)):
            code = "qr_code" if name.startswith(_QR_FORMATS) else "barcode"
            if code not in todo:
                continue
            share = max(1, x1 - x0) * max(1, y1 - y0) / area
            out.append(Finding(
                code=code, source=source, value=round(share, 4),
                message=f"{label} found at ({x0},{y0})-({x1},{y1}), {share:.1%} of the image: the portal rejects QR codes and watermarks",
            ))
    if "blur" in todo:
        assert gray is not None
        value = sharpness(np.asarray(gray))
        if value is not None and value < BLUR_MIN_SHARPNESS:
            out.append(Finding(
                code="blur", source=source, value=round(value, 3),
                message=f"looks blurry at {image.width}x{image.height}: edge sharpness {value:.2f} < {BLUR_MIN_SHARPNESS} (the portal asks for a clear image; use larger or crisper art)",
            ))
    if "safe_area" in todo and role == "icon":
        density = safe_area_density(flat)
        if density >= SAFE_AREA_MAX_DENSITY:
            out.append(Finding(
                code="safe_area", source=source, value=round(density, 3),
                message=f"detail near a corner would be cut by a circular mask ({density:.0%} of a corner is hard edges): keep text and key art inside the inscribed circle",
            ))
    return out


def lint_rendition(
    image: Image.Image, spec: RenderSpec, *, source: str, shipped_format: str, upstream: Iterable[Finding] = (),
    flat: Image.Image | None = None, gray: Image.Image | None = None,
) -> tuple[Finding, ...]:
    """The pipeline's hook: lint an asset as it is shipped, then level it and `upstream` findings.

    A JPEG carries no alpha, so the image is flattened onto the spec's background first.
    `upstream` holds the load/render/encode findings: render's `upscaled` is levelled here too.
    `flat`, `gray`: that flattened image and its luma, when the caller has them already.
    """
    if flat is None:
        flat = flatten(image, spec.background)
    shipped = flat if shipped_format == "JPEG" else image
    found = lint_image(shipped, role=spec.role, source=source, background=spec.background, checks=enabled(spec.lint),
                       flat=flat, gray=gray)
    return apply_levels([*upstream, *found], spec.lint)


def lint_file(path: Path, role: str, profile: Profile) -> tuple[Finding, ...]:
    """`check --icon/--thumbnail`: the same lint on a loose file (rendered to the target if its size differs)."""
    from .errors import AssetError
    from .load import load_image
    from .project import hash_file
    from .render import render

    rule = profile.rule_for(role)
    spec = RenderSpec(
        role=role, width=rule.width, height=rule.height, fit="cover", background=(255, 255, 255),  # type: ignore[arg-type]
        formats=rule.formats, max_bytes=rule.max_bytes, lint=profile.lint_levels(),
    )
    try:
        sha, size = hash_file(path)
        loaded = load_image(SourceFile(path=path, rel=str(path), sha256=sha, size=size))
    except (AssetError, OSError):
        return ()  # the byte checks already report a file that does not decode
    if loaded.image.size == (rule.width, rule.height):
        return lint_rendition(loaded.image, spec, source=str(path), shipped_format=loaded.format)
    rendition = render(loaded, spec)
    return lint_rendition(rendition.image, spec, source=str(path), shipped_format=loaded.format, upstream=rendition.findings)


__all__ = [
    "apply_levels",
    "enabled",
    "lint_file",
    "lint_image",
    "lint_rendition",
    "sharpness",
]
