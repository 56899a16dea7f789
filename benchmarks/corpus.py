"""Deterministic benchmark corpus: synthetic game art generated from seeds, cached on disk.

The project owns these images (no network, no third-party data). Every image is drawn
from a seeded numpy ``Generator`` plus Pillow drawing and DejaVu fonts, so a re-run on the
same machine and library versions writes byte-identical files.

Kinds:

* ``large``: 10 artist-sized sources (3000-4096 px): photo-like and flat/graphic art,
  PNG and JPEG, RGBA with real alpha, one 16-bit RGB PNG, one palette PNG with
  transparency, and one JPEG whose EXIF orientation rotates it to portrait.
* ``small``: 24 sources of 600-1600 px with the same mix, for encoder comparisons.

File names start with the content class (``photo_`` or ``flat_``), which the benchmark
scripts use to report per class. Usage::

    from benchmarks.corpus import ensure_corpus
    paths = ensure_corpus("small")           # generates only missing files

    python -m benchmarks.corpus              # generate every kind
    python -m benchmarks.corpus --verify     # regenerate in memory, compare bytes
"""

from __future__ import annotations

import argparse
import io
import os
import struct
import sys
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

DEFAULT_ROOT = Path(__file__).resolve().parent / ".corpus"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
KINDS = ("large", "small")

# EXIF tag 0x0112 (Orientation); 6 means "rotate 90 CW to display".
_EXIF_ORIENTATION = 0x0112

Pixels = Image.Image | np.ndarray


# ----------------------------------------------------------------------------- helpers


def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / name), size)


def _fbm(
    w: int,
    h: int,
    rng: np.random.Generator,
    *,
    octaves: int,
    cells: float = 3.0,
    persistence: float = 0.5,
) -> np.ndarray:
    """Multi-octave value noise in [0, 1], float32, shape (h, w).

    Each octave is a random grid upsampled with Pillow's bicubic filter; octaves whose grid
    is finer than a quarter of the output are accumulated at reduced size first.
    """
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    long_side = max(w, h)
    for _ in range(octaves):
        gw = max(2, round(cells * w / long_side) + 2)
        gh = max(2, round(cells * h / long_side) + 2)
        grid = rng.random((gh, gw), dtype=np.float32)
        layer = Image.fromarray(grid, mode="F").resize((w, h), Image.Resampling.BICUBIC)
        out += amp * np.asarray(layer)
        total += amp
        amp *= persistence
        cells *= 2.0
    out /= total
    lo, hi = float(out.min()), float(out.max())
    out -= lo
    out /= max(hi - lo, 1e-6)
    return out


def _ramp(t: np.ndarray, stops: list[tuple[float, tuple[int, int, int]]]) -> np.ndarray:
    """Map t in [0, 1] through colour stops; returns float32 (h, w, 3) in 0..255."""
    xs = [s for s, _ in stops]
    out = np.empty((*t.shape, 3), np.float32)
    for c in range(3):
        out[..., c] = np.interp(t, xs, [col[c] for _, col in stops])
    return out


def _to_u8(a: np.ndarray) -> np.ndarray:
    return np.clip(a + 0.5, 0, 255).astype(np.uint8)


def _rand_color(rng: np.random.Generator, lo: int = 0, hi: int = 256) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in rng.integers(lo, hi, 3))
    return (r, g, b)


_TITLES = [
    "STAR QUEST",
    "Puzzle Party!",
    "GALAXY RUN",
    "Jelly Jump",
    "Level 42",
    "PLAY NOW",
    "Dragon Tiles",
    "Pixel Farm",
    "Block Blast",
    "Ocean Match 3",
]


# ------------------------------------------------------------------ photo-like generators


def gen_terrain(w: int, h: int, rng: np.random.Generator) -> Pixels:
    """Aerial fractal terrain: water, beaches, forests, rock, snow, hill shading and grain."""
    height = _fbm(w, h, rng, octaves=9, cells=2.5, persistence=0.52)
    height = height**1.3
    tint = _fbm(w, h, rng, octaves=3, cells=2.0)
    rgb = _ramp(
        height,
        [
            (0.0, (8, 30, 70)),
            (0.30, (25, 85, 140)),
            (0.34, (60, 140, 170)),
            (0.36, (205, 190, 145)),
            (0.40, (95, 140, 60)),
            (0.58, (40, 90, 40)),
            (0.72, (110, 100, 85)),
            (0.86, (150, 145, 140)),
            (0.93, (245, 245, 250)),
            (1.0, (255, 255, 255)),
        ],
    )
    gy, gx = np.gradient(height)
    k = max(w, h) * 3.0
    shade = np.clip(0.85 + (gx - gy) * k, 0.35, 1.35)
    land = height > 0.35
    shade = np.where(land, shade, 1.0 + 0.08 * (tint - 0.5))
    rgb *= shade[..., None]
    rgb *= (0.9 + 0.2 * tint)[..., None]
    rgb += rng.normal(0.0, 3.0, (h, w, 1)).astype(np.float32)
    return Image.fromarray(_to_u8(rgb), "RGB")


def gen_bokeh(w: int, h: int, rng: np.random.Generator) -> Pixels:
    """Soft gradient with out-of-focus discs, a sharp textured subject, and film grain."""
    sw, sh = max(w // 4, 8), max(h // 4, 8)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    t = yy / sh
    c1, c2 = np.array(_rand_color(rng, 20, 120)), np.array(_rand_color(rng, 120, 255))
    base = c1[None, None, :] * (1 - t[..., None]) + c2[None, None, :] * t[..., None]
    base *= (0.8 + 0.4 * _fbm(sw, sh, rng, octaves=3, cells=2.0))[..., None]
    acc = base.astype(np.float32)
    for _ in range(int(120 * (w * h) / 12e6) + 40):
        r = float(rng.uniform(0.02, 0.08) * sw)
        cx, cy = float(rng.uniform(0, sw)), float(rng.uniform(0, sh))
        col = np.array(_rand_color(rng, 150, 256), np.float32)
        x0, x1 = max(int(cx - r - 2), 0), min(int(cx + r + 3), sw)
        y0, y1 = max(int(cy - r - 2), 0), min(int(cy + r + 3), sh)
        if x0 >= x1 or y0 >= y1:
            continue
        d = np.hypot(xx[y0:y1, x0:x1] - cx, yy[y0:y1, x0:x1] - cy) / r
        disc = np.clip((1.0 - d) * r / 1.5, 0.0, 1.0)  # soft edge
        ring = np.exp(-(((d - 0.92) / 0.08) ** 2)) * 0.5  # brighter rim, like real bokeh
        a = (disc * 0.35 + ring * (d < 1.05)) * float(rng.uniform(0.4, 1.0))
        acc[y0:y1, x0:x1] += (col - acc[y0:y1, x0:x1]) * np.clip(a, 0, 1)[..., None]
    img = Image.fromarray(_to_u8(acc), "RGB").resize((w, h), Image.Resampling.BICUBIC)
    img = img.filter(ImageFilter.GaussianBlur(max(w, h) / 1500))
    rgb = np.asarray(img).astype(np.float32)

    # In-focus subject: an ellipse of fine woven texture with a soft edge.
    mask = Image.new("L", (w, h), 0)
    ex, ey = w * float(rng.uniform(0.3, 0.45)), h * float(rng.uniform(0.3, 0.45))
    box = (w / 2 - ex / 2, h / 2 - ey / 2, w / 2 + ex / 2, h / 2 + ey / 2)
    ImageDraw.Draw(mask).ellipse(box, 255)
    mask = mask.filter(ImageFilter.GaussianBlur(max(w, h) / 800))
    m = np.asarray(mask).astype(np.float32)[..., None] / 255.0
    fy, fx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = max(w, h) / 400.0
    weave = np.sin(fx / period) * np.sin(fy / period * 1.3) * 0.5 + 0.5
    tex = _fbm(w, h, rng, octaves=5, cells=16.0)
    subj_col = np.array(_rand_color(rng, 60, 230), np.float32)
    subject = subj_col * (0.55 + 0.3 * weave + 0.3 * tex)[..., None]
    rgb = rgb * (1 - m) + subject * m
    rgb += rng.normal(0.0, 4.0, (h, w, 1)).astype(np.float32)
    return Image.fromarray(_to_u8(rgb), "RGB")


def gen_sky16(w: int, h: int, rng: np.random.Generator) -> Pixels:
    """Sunset sky with clouds, kept in 16 bits (smooth gradients where 8 bits band)."""
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None] * np.ones((1, w), np.float32)
    sky = _ramp(
        t,
        [
            (0.0, (20, 30, 90)),
            (0.45, (120, 80, 150)),
            (0.75, (250, 140, 90)),
            (0.9, (255, 210, 150)),
            (1.0, (255, 235, 200)),
        ],
    )
    clouds = _fbm(w, h, rng, octaves=7, cells=3.0, persistence=0.55)
    cover = np.clip((clouds - 0.45) * 3.0, 0.0, 1.0)[..., None]
    lit = _ramp(t, [(0.0, (90, 80, 130)), (0.6, (240, 150, 160)), (1.0, (255, 200, 170))])
    rgb = sky * (1 - cover * 0.85) + lit * cover * 0.85
    rgb16 = rgb * (65535.0 / 255.0) + rng.normal(0.0, 24.0, (h, w, 1)).astype(np.float32)
    return np.clip(rgb16 + 0.5, 0, 65535).astype(np.uint16)


def gen_planet(w: int, h: int, rng: np.random.Generator) -> Pixels:
    """RGBA cut-out: a lit, banded planet with an atmospheric glow on a transparent field."""
    s = min(w, h)
    cx, cy, r = w / 2, h / 2, 0.36 * s
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = (xx - cx) / r, (yy - cy) / r
    rr = np.sqrt(dx * dx + dy * dy)
    z = np.sqrt(np.clip(1.0 - rr * rr, 0.0, 1.0))
    warp = _fbm(w, h, rng, octaves=6, cells=4.0)
    band_t = (np.sin((dy / (z + 0.35)) * 9.0 + warp * 6.0) * 0.5 + 0.5) * 0.8 + warp * 0.2
    c = [_rand_color(rng, 40, 255) for _ in range(4)]
    rgb = _ramp(band_t, [(0.0, c[0]), (0.35, c[1]), (0.7, c[2]), (1.0, c[3])])
    light = np.clip(0.15 + 0.95 * (-0.5 * dx - 0.45 * dy + 0.75 * z), 0.05, 1.2)
    rgb *= light[..., None]
    rgb += rng.normal(0.0, 2.5, (h, w, 1)).astype(np.float32)
    edge_px = 1.5 / r
    body = np.clip((1.0 - rr) / edge_px, 0.0, 1.0)
    glow = np.exp(-np.maximum(rr - 1.0, 0.0) * 12.0) * 0.7 * (rr >= 1.0 - edge_px)
    glow_col = np.array(_rand_color(rng, 120, 256), np.float32)
    alpha = body + glow * (1 - body)
    out_rgb = (rgb * body[..., None] + glow_col * (glow * (1 - body))[..., None]) / np.maximum(
        alpha, 1e-6
    )[..., None]
    alpha_u8 = _to_u8(alpha * 255.0)
    out_rgb[alpha_u8 == 0] = 0
    rgba = np.dstack([_to_u8(out_rgb), alpha_u8])
    return Image.fromarray(rgba, "RGBA")


def gen_starfield(w: int, h: int, rng: np.random.Generator) -> Pixels:
    """Key art: nebula and single-pixel stars (hard for JPEG) under a bold title."""
    neb = _fbm(w, h, rng, octaves=7, cells=3.0)
    neb2 = _fbm(w, h, rng, octaves=5, cells=2.0)
    rgb = _ramp(
        neb,
        [(0.0, (2, 2, 10)), (0.5, (10, 10, 35)), (0.75, (70, 20, 90)), (1.0, (230, 120, 180))],
    )
    rgb += _ramp(neb2, [(0.0, (0, 0, 0)), (0.6, (0, 0, 0)), (1.0, (20, 90, 140))])
    n = int(w * h / 900)
    ys, xs = rng.integers(0, h, n), rng.integers(0, w, n)
    bright = rng.uniform(120, 255, n).astype(np.float32)
    rgb[ys, xs] = np.maximum(rgb[ys, xs], bright[:, None])
    img = Image.fromarray(_to_u8(rgb), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(max(10, n // 400)):  # a few big glowing stars
        x, y = float(rng.uniform(0, w)), float(rng.uniform(0, h))
        rad = float(rng.uniform(1.5, 4.0)) * max(w, h) / 2000
        draw.ellipse((x - rad, y - rad, x + rad, y + rad), fill=(255, 250, 235))
    title = _TITLES[int(rng.integers(len(_TITLES)))]
    font = _font("DejaVuSans-Bold.ttf", max(12, int(h * 0.14)))
    draw.text(
        (w / 2, h * 0.78),
        title,
        font=font,
        fill=(255, 215, 40),
        anchor="mm",
        stroke_width=max(1, int(h * 0.008)),
        stroke_fill=(120, 20, 10),
    )
    return img


# ------------------------------------------------------------------- flat/graphic art


def _flat_canvas(w: int, h: int, mode: str, bg: Any) -> tuple[Image.Image, int]:
    """A supersampled canvas (2x below 2500 px, else 1x): vector exports are anti-aliased."""
    ss = 2 if max(w, h) <= 2500 else 1
    return Image.new(mode, (w * ss, h * ss), bg), ss


def _finish(img: Image.Image, ss: int) -> Image.Image:
    return img.reduce(ss) if ss > 1 else img


def _star(
    cx: float, cy: float, r: float, points: int = 5, rot: float = 0.0
) -> list[tuple[float, float]]:
    pts = []
    for i in range(points * 2):
        rad = r if i % 2 == 0 else r * 0.45
        a = rot + np.pi * i / points - np.pi / 2
        pts.append((cx + rad * float(np.cos(a)), cy + rad * float(np.sin(a))))
    return pts


def gen_logo(w: int, h: int, rng: np.random.Generator) -> Pixels:
    """RGBA logo: emblem shapes, outlined title, soft drop shadow on transparency."""
    img, ss = _flat_canvas(w, h, "RGBA", (0, 0, 0, 0))
    W, H = img.size
    d = ImageDraw.Draw(img)
    palette = [_rand_color(rng, 0, 256) + (255,) for _ in range(5)]
    s = min(W, H)
    d.ellipse(
        (W / 2 - 0.42 * s, H / 2 - 0.42 * s, W / 2 + 0.42 * s, H / 2 + 0.42 * s), fill=palette[0]
    )
    d.ellipse(
        (W / 2 - 0.36 * s, H / 2 - 0.36 * s, W / 2 + 0.36 * s, H / 2 + 0.36 * s),
        fill=palette[1],
        outline=(255, 255, 255, 255),
        width=max(2, int(0.015 * s)),
    )
    for i in range(int(rng.integers(3, 7))):
        a = 2 * np.pi * i / 6 + float(rng.uniform(0, 0.3))
        px, py = W / 2 + 0.25 * s * float(np.cos(a)), H / 2 + 0.25 * s * float(np.sin(a))
        d.polygon(_star(px, py, 0.07 * s, rot=a), fill=palette[2 + i % 2])
    band = (W / 2 - 0.48 * s, H / 2 - 0.09 * s, W / 2 + 0.48 * s, H / 2 + 0.09 * s)
    d.rounded_rectangle(band, radius=0.04 * s, fill=palette[4])
    title = _TITLES[int(rng.integers(len(_TITLES)))]
    size = int(0.12 * s)
    font = _font("DejaVuSans-Bold.ttf", size)
    while d.textlength(title, font=font) > 0.9 * s and size > 8:
        size = int(size * 0.9)
        font = _font("DejaVuSans-Bold.ttf", size)
    d.text(
        (W / 2, H / 2),
        title,
        font=font,
        fill=(255, 255, 255, 255),
        anchor="mm",
        stroke_width=max(1, int(0.01 * s)),
        stroke_fill=(20, 20, 30, 255),
    )
    small = _font("DejaVuSansCondensed.ttf", max(8, int(0.04 * s)))
    d.text(
        (W / 2, H / 2 + 0.27 * s), "studio edition", font=small, fill=(255, 255, 255, 255),
        anchor="mm",
    )
    img = _finish(img, ss)
    # Soft drop shadow below the art: semi-transparent alpha gradients.
    off = max(2, int(0.012 * min(w, h)))
    blurred = img.getchannel("A").filter(ImageFilter.GaussianBlur(0.01 * min(w, h)))
    sa = np.zeros((h, w), np.uint8)
    sa[off:, off:] = (np.asarray(blurred)[: h - off, : w - off].astype(np.uint16) * 141 >> 8)
    sh = np.zeros((h, w, 4), np.uint8)
    sh[sa > 0, :3] = (10, 10, 20)
    sh[..., 3] = sa
    return Image.alpha_composite(Image.fromarray(sh, "RGBA"), img)


def gen_banner(w: int, h: int, rng: np.random.Generator) -> Pixels:
    """Opaque flat banner: solid fills, stripes, circles, big and small text."""
    bg = _rand_color(rng, 0, 256)
    img, ss = _flat_canvas(w, h, "RGB", bg)
    W, H = img.size
    d = ImageDraw.Draw(img)
    cols = [_rand_color(rng, 0, 256) for _ in range(4)]
    stripe = max(W, H) / 12
    for i in range(-12, 24, 2):
        x = i * stripe
        d.polygon([(x, 0), (x + stripe, 0), (x + stripe - H, H), (x - H, H)], fill=cols[0])
    for _ in range(int(rng.integers(6, 14))):
        r = float(rng.uniform(0.03, 0.12)) * min(W, H)
        x, y = float(rng.uniform(0, W)), float(rng.uniform(0, H))
        d.ellipse((x - r, y - r, x + r, y + r), fill=cols[1 + int(rng.integers(0, 3))])
    d.rectangle((0, H * 0.62, W, H * 0.86), fill=cols[3])
    title = _TITLES[int(rng.integers(len(_TITLES)))]
    size = int(0.22 * H)
    font = _font("DejaVuSans-Bold.ttf", size)
    while d.textlength(title, font=font) > 0.9 * W and size > 8:
        size = int(size * 0.9)
        font = _font("DejaVuSans-Bold.ttf", size)
    d.text((W / 2, H * 0.35), title, font=font, fill=(255, 255, 255), anchor="mm",
           stroke_width=max(1, int(0.012 * H)), stroke_fill=(0, 0, 0))
    tagline = "Download today - free to play - 100 levels"
    size = max(8, int(0.05 * H))
    body = _font("DejaVuSerif.ttf", size)
    while d.textlength(tagline, font=body) > 0.95 * W and size > 8:
        size = int(size * 0.9)
        body = _font("DejaVuSerif.ttf", size)
    d.text((W / 2, H * 0.74), tagline, font=body, fill=(20, 20, 20), anchor="mm")
    mono = _font("DejaVuSansMono.ttf", max(8, int(0.025 * H)))
    d.text((W * 0.02, H * 0.95), "v1.0.3  (c) 2026 Example Studio", font=mono, fill=(240, 240, 240),
           anchor="lm")
    return _finish(img, ss)


def gen_palette(w: int, h: int, rng: np.random.Generator) -> Pixels:
    """Palette (P) image with a transparent index: aliased shapes and text, 16 colours."""
    img = Image.new("P", (w, h), 0)
    pal = [0, 0, 0]
    for _ in range(15):
        pal += list(_rand_color(rng))
    img.putpalette(pal + [0] * (768 - len(pal)))
    d = ImageDraw.Draw(img)
    d.fontmode = "1"
    s = min(w, h)
    d.rounded_rectangle(
        (0.05 * w, 0.05 * h, 0.95 * w, 0.95 * h), radius=0.08 * s, fill=1, outline=2,
        width=max(2, int(0.02 * s)),
    )
    for _ in range(int(rng.integers(8, 16))):
        x, y = float(rng.uniform(0.15, 0.85)) * w, float(rng.uniform(0.15, 0.85)) * h
        r = float(rng.uniform(0.03, 0.1)) * s
        k = int(rng.integers(3, 15))
        if rng.random() < 0.5:
            d.ellipse((x - r, y - r, x + r, y + r), fill=k)
        else:
            d.polygon(_star(x, y, r, points=int(rng.integers(4, 8))), fill=k)
    font = _font("DejaVuSans-Bold.ttf", max(8, int(0.1 * s)))
    d.text((w / 2, h / 2), "LEVEL UP", font=font, fill=15, anchor="mm")
    img.info["transparency"] = 0
    return img


def gen_badge(w: int, h: int, rng: np.random.Generator) -> Pixels:
    """RGBA app-icon badge: rounded square, stepped gradient, glyph, label, clear corners."""
    img, ss = _flat_canvas(w, h, "RGBA", (0, 0, 0, 0))
    W, H = img.size
    d = ImageDraw.Draw(img)
    top, bot = np.array(_rand_color(rng, 80, 256)), np.array(_rand_color(rng, 0, 160))
    steps = 6
    box = (0.06 * W, 0.06 * H, 0.94 * W, 0.94 * H)
    mask = Image.new("L", img.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle(box, radius=0.2 * min(W, H), fill=255)
    grad = Image.new("RGBA", img.size)
    gd = ImageDraw.Draw(grad)
    for i in range(steps):
        col = tuple(int(v) for v in top + (bot - top) * i / (steps - 1)) + (255,)
        gd.rectangle((0, H * i / steps, W, H * (i + 1) / steps), fill=col)
    img.paste(grad, (0, 0), mask)
    d.rounded_rectangle(box, radius=0.2 * min(W, H), outline=(255, 255, 255, 255),
                        width=max(2, int(0.02 * min(W, H))))
    bolt = [
        (0.55, 0.15), (0.3, 0.55), (0.48, 0.55), (0.4, 0.82), (0.7, 0.4), (0.52, 0.4), (0.62, 0.15),
    ]
    d.polygon([(x * W, y * H) for x, y in bolt], fill=(255, 230, 40, 255), outline=(60, 30, 0, 255),
              width=max(1, int(0.01 * W)))
    font = _font("DejaVuSansCondensed-Bold.ttf", max(8, int(0.09 * H)))
    d.text((W / 2, H * 0.87), "BOOST", font=font, fill=(255, 255, 255, 255), anchor="mm",
           stroke_width=max(1, int(0.006 * H)), stroke_fill=(0, 0, 0, 255))
    return _finish(img, ss)


def gen_pixelart(w: int, h: int, rng: np.random.Generator) -> Pixels:
    """RGBA pixel art: a grid of symmetric 16x16 sprites upscaled with nearest neighbour."""
    grid, sprite = 4, 16
    cells = grid * sprite
    art = np.zeros((cells, cells, 4), np.uint8)
    for gy in range(grid):
        for gx in range(grid):
            cols = np.array([_rand_color(rng, 30, 256) for _ in range(3)], np.uint8)
            half = rng.random((sprite - 4, (sprite - 4) // 2)) < 0.5
            shape = np.hstack([half, half[:, ::-1]])
            # colour regions: coarse 2x2 blocks, mirrored like the shape
            half_idx = rng.integers(0, 3, ((sprite - 4) // 2, (sprite - 4) // 4))
            half_idx = half_idx.repeat(2, axis=0).repeat(2, axis=1)
            idx = np.hstack([half_idx, half_idx[:, ::-1]])
            block = np.zeros((sprite, sprite, 4), np.uint8)
            inner = block[2:-2, 2:-2]
            inner[shape, :3] = cols[idx[shape]]
            inner[shape, 3] = 255
            # one-pixel dark outline around the sprite
            filled = block[..., 3] > 0
            grown = filled.copy()
            grown[1:] |= filled[:-1]
            grown[:-1] |= filled[1:]
            grown[:, 1:] |= filled[:, :-1]
            grown[:, :-1] |= filled[:, 1:]
            outline = grown & ~filled
            block[outline] = (20, 12, 30, 255)
            art[gy * sprite : (gy + 1) * sprite, gx * sprite : (gx + 1) * sprite] = block
    img = Image.fromarray(art, "RGBA").resize((w, h), Image.Resampling.NEAREST)
    return img


# ------------------------------------------------------------------------------- specs


@dataclass(frozen=True)
class Spec:
    """One corpus image: generator, size (as displayed), seed and how it is saved."""

    name: str
    gen: Callable[[int, int, np.random.Generator], Pixels]
    size: tuple[int, int]
    seed: int
    save: dict[str, Any] = field(default_factory=dict)
    # EXIF orientation: 6 stores the pixels rotated so a viewer rotates them back.
    orientation: int = 1


def _specs(kind: str) -> list[Spec]:
    if kind == "large":
        return [
            Spec("photo_terrain_4096x3072.jpg", gen_terrain, (4096, 3072), 101,
                 {"quality": 95, "subsampling": 0}),
            Spec("photo_bokeh_3000x4000_exif6.jpg", gen_bokeh, (3000, 4000), 102,
                 {"quality": 92}, orientation=6),
            Spec("photo_sky_3072x2048_rgb16.png", gen_sky16, (3072, 2048), 103),
            Spec("photo_planet_3500x3500_rgba.png", gen_planet, (3500, 3500), 104),
            Spec("photo_keyart_starfield_4096x2304.jpg", gen_starfield, (4096, 2304), 105,
                 {"quality": 95, "subsampling": 0}),
            Spec("flat_logo_4000x4000_rgba.png", gen_logo, (4000, 4000), 201),
            Spec("flat_banner_4000x3000.jpg", gen_banner, (4000, 3000), 202, {"quality": 90}),
            Spec("flat_palette_3200x3200_trns.png", gen_palette, (3200, 3200), 203),
            Spec("flat_badge_3600x3600_rgba.png", gen_badge, (3600, 3600), 204),
            Spec("flat_pixelart_3072x3072_rgba.png", gen_pixelart, (3072, 3072), 205),
        ]
    if kind == "small":
        q92 = {"quality": 92}
        q95 = {"quality": 95, "subsampling": 0}
        return [
            Spec("photo_terrain_1600x1200.jpg", gen_terrain, (1600, 1200), 301, q92),
            Spec("photo_terrain_1200x1200.png", gen_terrain, (1200, 1200), 302),
            Spec("photo_terrain_800x600.jpg", gen_terrain, (800, 600), 303, q95),
            Spec("photo_bokeh_1080x1440.jpg", gen_bokeh, (1080, 1440), 304, q92),
            Spec("photo_bokeh_1024x1024.png", gen_bokeh, (1024, 1024), 305),
            Spec("photo_bokeh_1200x900_exif6.jpg", gen_bokeh, (1200, 900), 306, q95, 6),
            Spec("photo_sky_1400x1000_rgb16.png", gen_sky16, (1400, 1000), 307),
            Spec("photo_planet_1200x1200_rgba.png", gen_planet, (1200, 1200), 308),
            Spec("photo_planet_900x1100_rgba.png", gen_planet, (900, 1100), 309),
            Spec("photo_keyart_starfield_1600x900.jpg", gen_starfield, (1600, 900), 310, q95),
            Spec("photo_keyart_starfield_1280x1280.png", gen_starfield, (1280, 1280), 311),
            Spec("photo_terrain_600x800.png", gen_terrain, (600, 800), 312),
            Spec("flat_logo_1200x1200_rgba.png", gen_logo, (1200, 1200), 401),
            Spec("flat_logo_1600x1600_rgba.png", gen_logo, (1600, 1600), 402),
            Spec("flat_logo_700x700_rgba.png", gen_logo, (700, 700), 403),
            Spec("flat_banner_1600x900.jpg", gen_banner, (1600, 900), 404, {"quality": 90}),
            Spec("flat_banner_1280x720.png", gen_banner, (1280, 720), 405),
            Spec("flat_banner_1200x1600.png", gen_banner, (1200, 1600), 406),
            Spec("flat_palette_1024x1024_trns.png", gen_palette, (1024, 1024), 407),
            Spec("flat_palette_800x1000_trns.png", gen_palette, (800, 1000), 408),
            Spec("flat_badge_1024x1024_rgba.png", gen_badge, (1024, 1024), 409),
            Spec("flat_badge_1500x1500_rgba.png", gen_badge, (1500, 1500), 410),
            Spec("flat_pixelart_1024x1024_rgba.png", gen_pixelart, (1024, 1024), 411),
            Spec("flat_pixelart_640x640_rgba.png", gen_pixelart, (640, 640), 412),
        ]
    msg = f"Expected kind in {KINDS} but received {kind!r}"
    raise ValueError(msg)


# ---------------------------------------------------------------------------- writing


def _png16(arr: np.ndarray) -> bytes:
    """Encode a (h, w, 3) uint16 array as a 16-bit RGB PNG (Up filter, zlib level 6).

    Pillow cannot write 16-bit RGB PNGs, so this is a minimal writer.
    """
    h, w, _ = arr.shape
    rows = np.ascontiguousarray(arr.astype(">u2")).view(np.uint8).reshape(h, w * 6)
    filt = rows.copy()
    filt[1:] -= rows[:-1]  # Up filter, uint8 wrap-around as the spec says
    raw = np.hstack([np.full((h, 1), 2, np.uint8), filt]).tobytes()

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def render_bytes(spec: Spec) -> bytes:
    """Generate one corpus image and return its encoded file bytes (deterministic)."""
    rng = np.random.default_rng(spec.seed)
    w, h = spec.size
    pixels = spec.gen(w, h, rng)
    if isinstance(pixels, np.ndarray):
        return _png16(pixels)
    img = pixels
    buf = io.BytesIO()
    if spec.name.endswith(".jpg"):
        kwargs: dict[str, Any] = dict(spec.save)
        if spec.orientation != 1:
            if spec.orientation != 6:
                msg = f"Expected orientation 1 or 6 but received {spec.orientation}"
                raise ValueError(msg)
            img = img.transpose(Image.Transpose.ROTATE_90)  # stored; viewer rotates 90 CW
            exif = Image.Exif()
            exif[_EXIF_ORIENTATION] = spec.orientation
            kwargs["exif"] = exif.tobytes()
        img.convert("RGB").save(buf, "JPEG", **kwargs)
    else:
        kwargs = {"compress_level": 6, **spec.save}
        if img.mode == "P" and "transparency" in img.info:
            kwargs["transparency"] = img.info["transparency"]
        img.save(buf, "PNG", **kwargs)
    return buf.getvalue()


def _write(spec: Spec, path: Path) -> Path:
    data = render_bytes(spec)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # atomic: concurrent callers never see a partial file
    return path


def ensure_corpus(kind: str, root: Path | None = None, *, jobs: int = 1) -> list[Path]:
    """Return the paths of the ``kind`` corpus, generating any missing file first.

    ``root`` is the corpus cache folder (default ``benchmarks/.corpus``); files go to
    ``root/<kind>/``. ``jobs`` > 1 generates missing files in a process pool.
    """
    specs = _specs(kind)
    folder = (root or DEFAULT_ROOT) / kind
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / s.name for s in specs]
    missing = [(s, p) for s, p in zip(specs, paths, strict=True) if not p.exists()]
    if jobs > 1 and len(missing) > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(_write, *zip(*missing, strict=True)))
    else:
        for s, p in missing:
            _write(s, p)
    return paths


def verify_corpus(kind: str, root: Path | None = None) -> list[str]:
    """Regenerate ``kind`` in memory; return names whose cached bytes differ (empty = ok)."""
    folder = (root or DEFAULT_ROOT) / kind
    bad = []
    for s in _specs(kind):
        p = folder / s.name
        if not p.exists() or p.read_bytes() != render_bytes(s):
            bad.append(s.name)
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None,
                        help="cache folder (default benchmarks/.corpus)")
    parser.add_argument("--kind", choices=KINDS, action="append", help="default: all kinds")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--force", action="store_true", help="delete and regenerate")
    parser.add_argument("--verify", action="store_true", help="check bytes against a fresh render")
    args = parser.parse_args(argv)
    kinds = args.kind or list(KINDS)
    rc = 0
    for kind in kinds:
        t0 = time.perf_counter()
        if args.force:
            for s in _specs(kind):
                ((args.root or DEFAULT_ROOT) / kind / s.name).unlink(missing_ok=True)
        paths = ensure_corpus(kind, args.root, jobs=args.jobs)
        total = sum(p.stat().st_size for p in paths)
        print(f"{kind}: {len(paths)} files, {total / 1e6:.1f} MB, {time.perf_counter() - t0:.1f} s")
        if args.verify:
            bad = verify_corpus(kind, args.root)
            print(f"  verify: {'OK' if not bad else 'MISMATCH ' + ', '.join(bad)}")
            rc |= bool(bad)
    return rc


if __name__ == "__main__":
    sys.exit(main())
