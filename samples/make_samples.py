#!/usr/bin/env python3
"""Generate the sample game project ``samples/starfall/``.

All art is drawn procedurally with Pillow + numpy from fixed seeds: no network,
no timestamps, no randomness outside ``numpy.random.default_rng(seed)``.
Re-running the script rewrites byte-identical files (for a given Pillow /
libjpeg / zlib build).

Usage (from the repository root)::

    .venv/bin/python samples/make_samples.py

The DejaVu fonts in /usr/share/fonts/truetype/dejavu/ are used only to draw
text into the images; no font file is copied into the repository.

Licence of the generated art: CC0-1.0 (public domain dedication).
"""

from __future__ import annotations

import functools
import io
import math
import shutil
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

HERE = Path(__file__).resolve().parent
PROJECT = HERE / "starfall"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")

BOLD = "DejaVuSans-Bold.ttf"
SANS = "DejaVuSans.ttf"
COND_BOLD = "DejaVuSansCondensed-Bold.ttf"
SERIF_BOLD = "DejaVuSerif-Bold.ttf"

SS = 2  # supersampling factor for anti-aliased shapes


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / name), size)


def lerp_color(stops, t):
    """Piecewise-linear colour ramp; stops = [(pos, (r, g, b)), ...]."""
    pos = [p for p, _ in stops]
    t = np.asarray(t, dtype=np.float64)
    return np.stack(
        [np.interp(t, pos, [c[i] for _, c in stops]) for i in range(3)], axis=-1
    )


def star_points(cx, cy, r_out, r_in, n=5, rot=-90.0):
    pts = []
    for i in range(2 * n):
        r = r_out if i % 2 == 0 else r_in
        a = math.radians(rot + i * 180.0 / n)
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return pts


def regular_polygon(cx, cy, r, n, rot=-90.0):
    return [
        (cx + r * math.cos(math.radians(rot + i * 360.0 / n)),
         cy + r * math.sin(math.radians(rot + i * 360.0 / n)))
        for i in range(n)
    ]


class SDraw:
    """ImageDraw wrapper taking logical coordinates, scaled by ``k``."""

    def __init__(self, im: Image.Image, k: int):
        self.d = ImageDraw.Draw(im)
        self.k = k

    def _p(self, pts):
        return [(x * self.k, y * self.k) for x, y in pts]

    def _b(self, box):
        return [v * self.k for v in box]

    def _kw(self, kw):
        kw = dict(kw)
        if "width" in kw:
            kw["width"] = max(1, round(kw["width"] * self.k))
        return kw

    def polygon(self, pts, **kw):
        self.d.polygon(self._p(pts), **self._kw(kw))

    def ellipse(self, box, **kw):
        self.d.ellipse(self._b(box), **self._kw(kw))

    def circle(self, cx, cy, r, **kw):
        self.ellipse((cx - r, cy - r, cx + r, cy + r), **kw)

    def rectangle(self, box, **kw):
        self.d.rectangle(self._b(box), **self._kw(kw))

    def rounded_rectangle(self, box, radius, **kw):
        self.d.rounded_rectangle(self._b(box), radius=radius * self.k, **self._kw(kw))

    def line(self, pts, **kw):
        self.d.line(self._p(pts), **self._kw(kw))

    def pieslice(self, box, start, end, **kw):
        self.d.pieslice(self._b(box), start, end, **self._kw(kw))

    def star(self, cx, cy, r_out, r_in, n=5, rot=-90.0, **kw):
        self.polygon(star_points(cx, cy, r_out, r_in, n, rot), **kw)

    def text(self, xy, text, face, size, anchor="mm", stroke=0, **kw):
        f = font(face, round(size * self.k))
        self.d.text(
            (xy[0] * self.k, xy[1] * self.k), text, font=f, anchor=anchor,
            stroke_width=round(stroke * self.k), **kw,
        )


class Canvas:
    """An RGBA image drawn at SS x resolution in logical coordinates."""

    def __init__(self, w, h, k=SS, transparent=False):
        self.w, self.h, self.k = w, h, k
        self.im = Image.new("RGBA", (w * k, h * k), (0, 0, 0, 0 if transparent else 255))

    # -- numpy access --------------------------------------------------
    def set_array(self, arr):
        """arr: float (h*k, w*k, 3) in 0..255; keeps the current alpha."""
        rgb = Image.fromarray(np.clip(np.round(arr), 0, 255).astype(np.uint8), "RGB")
        rgb.putalpha(self.im.getchannel("A"))
        self.im = rgb

    def array(self):
        return np.asarray(self.im.convert("RGB"), dtype=np.float64)

    def vgradient(self, stops):
        H, W = self.h * self.k, self.w * self.k
        cols = lerp_color(stops, np.linspace(0.0, 1.0, H))
        self.set_array(np.broadcast_to(cols[:, None, :], (H, W, 3)).copy())

    def glow(self, cx, cy, rx, color, strength=1.0, ry=None, angle=0.0):
        """Screen-blend an (elliptical, rotated) gaussian glow."""
        k = self.k
        ry = rx if ry is None else ry
        cx, cy, rx, ry = cx * k, cy * k, max(rx * k, 0.35), max(ry * k, 0.35)
        R = 3.2 * max(rx, ry)
        W, H = self.im.size
        x0, x1 = max(0, int(cx - R)), min(W, int(cx + R) + 2)
        y0, y1 = max(0, int(cy - R)), min(H, int(cy + R) + 2)
        if x0 >= x1 or y0 >= y1:
            return
        region = self.im.crop((x0, y0, x1, y1))
        arr = np.asarray(region.convert("RGB"), dtype=np.float64)
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
        dx, dy = xs + 0.5 - cx, ys + 0.5 - cy
        ca, sa = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        u, v = dx * ca + dy * sa, -dx * sa + dy * ca
        g = np.exp(-((u / rx) ** 2 + (v / ry) ** 2)) * strength
        c = np.asarray(color, dtype=np.float64) / 255.0
        arr = 255.0 - (255.0 - arr) * (1.0 - np.clip(g[..., None] * c, 0, 1))
        out = Image.fromarray(np.clip(np.round(arr), 0, 255).astype(np.uint8), "RGB")
        out.putalpha(region.getchannel("A"))
        self.im.paste(out, (x0, y0))

    def starfield(self, rng, n, y_max=1.0, y_fade=None, bright=1.0, big=0.04):
        tints = [(255, 255, 255), (200, 220, 255), (255, 240, 200), (220, 200, 255)]
        for _ in range(n):
            x = rng.uniform(0, self.w)
            y = rng.uniform(0, self.h * y_max) if y_fade is None else self.h * y_max * rng.power(0.6)
            r = 0.45 + 1.1 * rng.random() ** 3
            s = (0.35 + 0.65 * rng.random()) * bright
            if y_fade is not None:
                s *= max(0.0, 1.0 - y / (self.h * y_fade))
            tint = tints[int(rng.integers(len(tints)))]
            self.glow(x, y, r, tint, s)
            if rng.random() < big:
                self.glow(x, y, 3.2 * r, tint, 0.35 * s)
                self.glow(x, y, 9 * r, tint, 0.55 * s, ry=0.35)
                self.glow(x, y, 9 * r, tint, 0.55 * s, ry=0.35, angle=90)

    # -- vector layers -------------------------------------------------
    @contextmanager
    def layer(self, blur=0.0, opacity=1.0, gradient=None):
        lay = Image.new("RGBA", self.im.size, (0, 0, 0, 0))
        yield SDraw(lay, self.k)
        self.composite(lay, blur=blur, opacity=opacity, gradient=gradient)

    def composite(self, lay, blur=0.0, opacity=1.0, gradient=None):
        # work only on the layer's content box (plus room for the blur)
        bbox = lay.getchannel("A").getbbox()
        if not bbox:
            return
        m = int(math.ceil(4 * blur * self.k)) + 2 if blur else 0
        W, H = lay.size
        box = (max(0, bbox[0] - m), max(0, bbox[1] - m), min(W, bbox[2] + m), min(H, bbox[3] + m))
        lay = lay.crop(box)
        if gradient is not None:
            a = lay.getchannel("A")
            y0, y1 = bbox[1] - box[1], bbox[3] - box[1]
            h, w = lay.size[1], lay.size[0]
            t = np.clip((np.arange(h) - y0) / max(1, y1 - y0), 0, 1)
            cols = lerp_color(gradient, t)
            arr = np.broadcast_to(cols[:, None, :], (h, w, 3))
            lay = Image.fromarray(np.round(arr).astype(np.uint8), "RGB")
            lay.putalpha(a)
        if blur:  # premultiplied, so edges keep their colour
            lay = lay.convert("RGBa").filter(ImageFilter.GaussianBlur(blur * self.k)).convert("RGBA")
        if opacity < 1.0:
            lay.putalpha(lay.getchannel("A").point(lambda v: round(v * opacity)))
        self.im.alpha_composite(lay, dest=box[:2])

    def shooting_star(self, x0, y0, x1, y1, color=(255, 245, 220), width=2.0, segs=24, head=1.0):
        with self.layer() as d:
            for i in range(segs):
                t0, t1 = i / segs, (i + 1) / segs
                a = round(255 * t1 ** 1.6)
                w = max(0.4, width * (0.25 + 0.75 * t1))
                d.line([(x0 + (x1 - x0) * t0, y0 + (y1 - y0) * t0),
                        (x0 + (x1 - x0) * t1, y0 + (y1 - y0) * t1)],
                       fill=color + (a,), width=w)
        self.glow(x1, y1, 2.5 * width, color, head)
        self.glow(x1, y1, 7 * width, color, 0.35 * head)

    def text_fx(self, xy, text, face, size, gradient, outline=None, outline_w=0,
                glow=None, glow_r=8, shadow=None, anchor="mm"):
        if glow is not None:
            with self.layer(blur=glow_r) as d:
                d.text(xy, text, face, size, anchor=anchor, stroke=outline_w + 2, fill=glow, stroke_fill=glow)
        if shadow is not None:
            with self.layer(blur=2) as d:
                d.text((xy[0] + size * 0.04, xy[1] + size * 0.06), text, face, size, anchor=anchor,
                       stroke=outline_w, fill=shadow, stroke_fill=shadow)
        if outline is not None and outline_w:
            with self.layer() as d:
                d.text(xy, text, face, size, anchor=anchor, stroke=outline_w, fill=outline, stroke_fill=outline)
        with self.layer(gradient=gradient) as d:
            d.text(xy, text, face, size, anchor=anchor, fill=(255, 255, 255, 255))

    # -- output --------------------------------------------------------
    def final(self, mode="RGB", noise=0.0, seed=0):
        im = self.im.resize((self.w, self.h), Image.Resampling.LANCZOS) if self.k != 1 else self.im
        if noise:
            rng = np.random.default_rng(seed)
            arr = np.asarray(im.convert("RGB"), dtype=np.float64)
            arr += rng.normal(0.0, noise, arr.shape[:2])[..., None]  # luma grain
            rgb = Image.fromarray(np.clip(np.round(arr), 0, 255).astype(np.uint8), "RGB")
            rgb.putalpha(im.getchannel("A"))
            im = rgb
        if mode == "RGB":
            return im.convert("RGB")
        return im


def silhouette(rng, w, base, amp, n_waves=4, jag=0.0, step=4):
    """Ridge line polygon (list of points) from a sum of sines."""
    phases = rng.uniform(0, 2 * math.pi, n_waves)
    freqs = [(i + 1) * 1.7 + rng.uniform(0, 1) for i in range(n_waves)]
    amps = [amp / (i + 1) for i in range(n_waves)]
    pts = []
    for x in range(0, w + step, step):
        y = base - sum(a * math.sin(f * x / w * math.pi + p) for a, f, p in zip(amps, freqs, phases))
        y += jag * rng.uniform(-1, 1)
        pts.append((x, y))
    return pts


GEM_COLORS = {
    "red": ((255, 90, 110), (200, 30, 60), (120, 10, 40)),
    "orange": ((255, 190, 90), (240, 120, 30), (150, 60, 10)),
    "yellow": ((255, 245, 150), (250, 205, 40), (160, 110, 0)),
    "green": ((150, 255, 170), (40, 200, 110), (10, 100, 60)),
    "blue": ((150, 220, 255), (40, 130, 250), (15, 50, 150)),
    "purple": ((230, 170, 255), (160, 80, 230), (80, 30, 130)),
}
GEM_SHAPES = {"red": "orb", "orange": "star6", "yellow": "star5",
              "green": "hex", "blue": "star4", "purple": "moon"}


def draw_gem(c: Canvas, cx, cy, r, color):
    light, mid, dark = GEM_COLORS[color]
    shape = GEM_SHAPES[color]

    def outline(d, rr, ox=0.0, oy=0.0, **kw):
        x, y = cx + ox, cy + oy
        if shape == "star5":
            d.star(x, y, rr, rr * 0.5, 5, **kw)
        elif shape == "star4":
            d.star(x, y, rr, rr * 0.42, 4, **kw)
        elif shape == "star6":
            d.star(x, y, rr, rr * 0.6, 6, **kw)
        elif shape == "hex":
            d.polygon(regular_polygon(x, y, rr * 0.92, 6, rot=0), **kw)
        else:  # orb / moon
            d.circle(x, y, rr * 0.86, **kw)

    c.glow(cx, cy, r * 0.9, mid, 0.35)
    with c.layer(blur=1.5, opacity=0.55) as d:  # drop shadow
        outline(d, r, r * 0.06, r * 0.12, fill=(0, 0, 0, 255))
    with c.layer(gradient=[(0, light), (0.55, mid), (1, dark)]) as d:
        outline(d, r, fill=(255, 255, 255, 255))
    if shape == "moon":  # crescent cut-out drawn in the dark tone
        with c.layer() as d:
            d.circle(cx + r * 0.32, cy - r * 0.22, r * 0.62, fill=dark + (255,))
        with c.layer() as d:
            d.star(cx + r * 0.28, cy - r * 0.18, r * 0.26, r * 0.11, 5, fill=light + (255,))
    elif shape == "orb":
        with c.layer() as d:
            d.star(cx, cy + r * 0.04, r * 0.5, r * 0.22, 5, fill=(255, 235, 200, 235))
    with c.layer(gradient=[(0, (255, 255, 255)), (1, light)], opacity=0.55) as d:  # inner facet
        outline(d, r * 0.55, 0, -r * 0.08, fill=(255, 255, 255, 255))
    with c.layer(opacity=0.85) as d:  # specular highlight
        d.ellipse((cx - r * 0.42, cy - r * 0.62, cx - r * 0.1, cy - r * 0.4), fill=(255, 255, 255, 200))


# --------------------------------------------------------------------------
# scenes
# --------------------------------------------------------------------------


def make_icon() -> Image.Image:
    W, H = 1800, 1350
    rng = np.random.default_rng(101)
    c = Canvas(W, H)
    c.vgradient([(0, (8, 10, 40)), (0.55, (28, 24, 84)), (1, (60, 30, 96))])
    c.glow(W / 2, H / 2, 700, (70, 60, 170), 0.55)
    c.starfield(rng, 420, big=0.05)
    for _ in range(6):
        x, y = rng.uniform(0, W), rng.uniform(0, H * 0.4)
        L = rng.uniform(120, 220)
        c.shooting_star(x, y, x - L * 0.8, y + L * 0.6, width=2.5)
    cx, cy = W / 2, H / 2
    # halo rings
    c.glow(cx, cy, 560, (120, 90, 255), 0.45)
    with c.layer(blur=6, opacity=0.7) as d:
        d.circle(cx, cy, 560, outline=(150, 170, 255, 255), width=6)
    with c.layer(opacity=0.5) as d:
        d.circle(cx, cy, 520, outline=(200, 210, 255, 255), width=3)
        for i in range(24):
            a = math.radians(i * 15)
            d.circle(cx + 520 * math.cos(a), cy + 520 * math.sin(a), 7 if i % 2 else 12,
                     fill=(230, 235, 255, 255))
    # orb
    with c.layer(gradient=[(0, (130, 110, 255)), (0.6, (60, 40, 170)), (1, (25, 15, 80))]) as d:
        d.circle(cx, cy, 440, fill=(255, 255, 255, 255))
    c.glow(cx - 120, cy - 150, 260, (190, 170, 255), 0.6)
    with c.layer(blur=10, opacity=0.8) as d:
        d.circle(cx, cy, 440, outline=(170, 200, 255, 255), width=18)
    # golden star emblem
    c.glow(cx, cy, 330, (255, 200, 80), 0.8)
    with c.layer(blur=3, opacity=0.6) as d:
        d.star(cx + 14, cy + 26, 360, 160, fill=(20, 0, 40, 255))
    with c.layer(gradient=[(0, (255, 250, 200)), (0.5, (255, 200, 60)), (1, (220, 110, 20))]) as d:
        d.star(cx, cy + 10, 360, 160, fill=(255, 255, 255, 255))
    with c.layer(gradient=[(0, (255, 255, 240)), (1, (255, 215, 110))], opacity=0.9) as d:
        d.star(cx, cy + 10, 250, 110, fill=(255, 255, 255, 255))
    # facet lines
    with c.layer(opacity=0.35) as d:
        pts = star_points(cx, cy + 10, 360, 160)
        for p in pts:
            d.line([(cx, cy + 10), p], fill=(150, 70, 0, 255), width=5)
    with c.layer(opacity=0.9) as d:
        d.ellipse((cx - 150, cy - 190, cx - 40, cy - 120), fill=(255, 255, 255, 210))
    c.glow(cx + 240, cy - 300, 10, (255, 255, 255), 1.0)
    c.glow(cx + 240, cy - 300, 80, (255, 255, 255), 0.6, ry=5)
    c.glow(cx + 240, cy - 300, 80, (255, 255, 255), 0.6, ry=5, angle=90)
    # small orbiting gems
    for i, col in enumerate(["red", "blue", "green", "orange", "purple", "yellow"]):
        a = math.radians(-90 + 30 + i * 60)
        draw_gem(c, cx + 610 * math.cos(a), cy + 590 * math.sin(a), 44, col)
    return c.final(noise=2.0, seed=1)


def make_title(lang: str) -> Image.Image:
    W, H = 800, 600
    if lang == "en":
        rng = np.random.default_rng(201)
        sky = [(0, (6, 8, 36)), (0.5, (40, 26, 96)), (0.85, (150, 60, 130)), (1, (240, 130, 120))]
    else:
        rng = np.random.default_rng(202)
        sky = [(0, (10, 30, 60)), (0.45, (30, 90, 120)), (0.8, (220, 120, 170)), (1, (255, 200, 190))]
    c = Canvas(W, H)
    c.vgradient(sky)
    c.starfield(rng, 200, y_max=0.8, y_fade=0.9, big=0.05)

    if lang == "en":
        c.glow(620, 120, 90, (255, 220, 200), 0.35)
        with c.layer(gradient=[(0, (255, 240, 220)), (1, (230, 170, 160))]) as d:
            d.circle(640, 110, 46, fill=(255, 255, 255, 255))
        for _ in range(5):
            x, y = rng.uniform(100, 760), rng.uniform(20, 260)
            L = rng.uniform(60, 140)
            c.shooting_star(x, y, x - L, y + L * 0.7, width=2.0)
        for i, (base, amp, col) in enumerate([(470, 40, (50, 24, 80)), (510, 30, (28, 14, 50)),
                                               (550, 22, (14, 8, 28))]):
            pts = silhouette(rng, W, base, amp, jag=1.5)
            with c.layer() as d:
                d.polygon(pts + [(W, H), (0, H)], fill=col + (255,))
        c.text_fx((400, 190), "STARFALL", BOLD, 112,
                  gradient=[(0, (255, 250, 210)), (0.5, (255, 205, 70)), (1, (235, 110, 30))],
                  outline=(60, 20, 60, 255), outline_w=6, glow=(255, 170, 60, 200), glow_r=14,
                  shadow=(0, 0, 0, 200))
        c.text_fx((400, 275), "A PUZZLE BEFORE DAWN", COND_BOLD, 28,
                  gradient=[(0, (220, 230, 255)), (1, (170, 180, 255))], glow=(80, 60, 200, 200), glow_r=5)
        for x, y, col in [(120, 110, "yellow"), (690, 260, "blue"), (150, 330, "purple"), (640, 360, "red")]:
            draw_gem(c, x, y, 30, col)
        with c.layer(blur=6, opacity=0.8) as d:
            d.rounded_rectangle((300, 410, 500, 480), 35, fill=(255, 170, 60, 255))
        with c.layer(gradient=[(0, (255, 220, 120)), (1, (230, 110, 30))]) as d:
            d.rounded_rectangle((300, 410, 500, 480), 35, fill=(255, 255, 255, 255))
        with c.layer(opacity=0.5) as d:
            d.rounded_rectangle((314, 416, 486, 440), 14, fill=(255, 255, 230, 255))
        c.text_fx((400, 446), "PLAY", BOLD, 36, gradient=[(0, (255, 255, 255)), (1, (255, 240, 220))],
                  outline=(120, 40, 10, 255), outline_w=2)
    else:
        # big crescent moon on the left, Fuji-like mountain, petals, text bottom-right
        c.glow(190, 200, 150, (255, 230, 240), 0.4)
        with c.layer(gradient=[(0, (255, 250, 235)), (1, (255, 215, 200))]) as d:
            d.circle(190, 200, 110, fill=(255, 255, 255, 255))
            d.circle(245, 165, 100, fill=(0, 0, 0, 0))  # cut out -> crescent (draws replace pixels)
        mtn = [(0, 600), (120, 520), (330, 340), (370, 330), (410, 340), (640, 520), (800, 560), (800, 600)]
        with c.layer(gradient=[(0, (80, 90, 150)), (1, (30, 30, 70))]) as d:
            d.polygon(mtn, fill=(255, 255, 255, 255))
        with c.layer() as d:
            d.polygon([(330, 340), (370, 330), (410, 340), (440, 375), (410, 368), (385, 385),
                       (360, 366), (330, 380), (300, 372)], fill=(240, 245, 255, 255))
        pts = silhouette(rng, W, 560, 14, jag=1.0)
        with c.layer() as d:
            d.polygon(pts + [(W, H), (0, H)], fill=(20, 14, 40, 255))
        with c.layer(opacity=0.85) as d:
            for _ in range(40):
                x, y = rng.uniform(0, W), rng.uniform(0, H)
                r = rng.uniform(3, 7)
                d.ellipse((x - r, y - r * 0.6, x + r, y + r * 0.6), fill=(255, 190, 215, 255))
        c.text_fx((770, 90), "STARFALL", SERIF_BOLD, 84, anchor="rm",
                  gradient=[(0, (255, 255, 255)), (1, (190, 235, 255))],
                  outline=(20, 40, 90, 255), outline_w=4, glow=(120, 220, 255, 200), glow_r=10,
                  shadow=(0, 0, 0, 180))
        with c.layer(blur=4, opacity=0.7) as d:
            d.circle(700, 190, 48, fill=(255, 80, 90, 255))
        with c.layer(gradient=[(0, (255, 110, 110)), (1, (200, 20, 50))]) as d:
            d.circle(700, 190, 44, fill=(255, 255, 255, 255))
        c.text_fx((700, 192), "JP", BOLD, 40, gradient=[(0, (255, 255, 255)), (1, (255, 230, 230))])
        c.text_fx((770, 300), "EDITION", COND_BOLD, 30, anchor="rm",
                  gradient=[(0, (255, 240, 250)), (1, (255, 200, 225))], glow=(120, 40, 100, 220), glow_r=4)
        for x, y, col in [(520, 470, "red"), (600, 500, "yellow"), (680, 470, "purple")]:
            draw_gem(c, x, y, 34, col)
    return c.final()


def make_gameplay() -> Image.Image:
    W, H = 1200, 900
    rng = np.random.default_rng(301)
    c = Canvas(W, H)
    c.vgradient([(0, (14, 16, 52)), (0.6, (34, 30, 92)), (1, (70, 36, 100))])
    c.starfield(rng, 260, big=0.03)
    c.glow(800, 480, 420, (60, 60, 160), 0.35)
    # top bar
    with c.layer(opacity=0.85) as d:
        d.rectangle((0, 0, W, 80), fill=(10, 12, 36, 255))
    with c.layer(gradient=[(0, (110, 120, 255)), (1, (60, 50, 180))]) as d:
        d.rectangle((0, 78, W, 82), fill=(255, 255, 255, 255))
    c.text_fx((40, 40), "STARFALL", BOLD, 40, anchor="lm",
              gradient=[(0, (255, 245, 200)), (1, (245, 160, 50))], outline=(50, 20, 50, 255), outline_w=3)
    c.text_fx((1160, 40), "LEVEL 12", BOLD, 32, anchor="rm",
              gradient=[(0, (230, 235, 255)), (1, (170, 180, 255))])
    # left HUD panel
    with c.layer(opacity=0.8) as d:
        d.rounded_rectangle((40, 130, 420, 830), 28, fill=(16, 20, 58, 255))
    with c.layer(opacity=0.9) as d:
        d.rounded_rectangle((40, 130, 420, 830), 28, outline=(120, 130, 255, 255), width=3)
    c.text_fx((230, 190), "SCORE", COND_BOLD, 30, gradient=[(0, (180, 190, 255)), (1, (140, 150, 230))])
    c.text_fx((230, 255), "12,450", BOLD, 64, gradient=[(0, (255, 255, 255)), (1, (255, 220, 140))],
              glow=(255, 180, 60, 160), glow_r=8)
    for i in range(3):
        x = 150 + i * 80
        col = (255, 210, 60, 255) if i < 2 else (70, 70, 120, 255)
        with c.layer() as d:
            d.star(x, 345, 32, 14, fill=col)
    c.text_fx((230, 440), "MOVES", COND_BOLD, 30, gradient=[(0, (180, 190, 255)), (1, (140, 150, 230))])
    with c.layer(gradient=[(0, (120, 90, 255)), (1, (60, 30, 160))]) as d:
        d.circle(230, 530, 62, fill=(255, 255, 255, 255))
    c.text_fx((230, 533), "18", BOLD, 60, gradient=[(0, (255, 255, 255)), (1, (220, 220, 255))])
    c.text_fx((230, 650), "GOAL", COND_BOLD, 30, gradient=[(0, (180, 190, 255)), (1, (140, 150, 230))])
    draw_gem(c, 160, 720, 34, "yellow")
    c.text_fx((215, 722), "x 24", BOLD, 34, anchor="lm", gradient=[(0, (255, 255, 255)), (1, (210, 210, 240))])
    with c.layer() as d:
        d.rounded_rectangle((80, 775, 380, 797), 11, fill=(40, 40, 90, 255))
    with c.layer(gradient=[(0, (140, 255, 170)), (1, (40, 190, 100))]) as d:
        d.rounded_rectangle((80, 775, 290, 797), 11, fill=(255, 255, 255, 255))
    # board
    cell, n = 82, 8
    bx, by = 486, 142
    with c.layer(blur=10, opacity=0.8) as d:
        d.rounded_rectangle((bx - 18, by - 18, bx + n * cell + 18, by + n * cell + 18), 30,
                            fill=(110, 110, 255, 255))
    with c.layer() as d:
        d.rounded_rectangle((bx - 14, by - 14, bx + n * cell + 14, by + n * cell + 14), 26,
                            fill=(20, 22, 60, 255), outline=(180, 170, 255, 255), width=4)
    with c.layer(opacity=0.9) as d:
        for r in range(n):
            for q in range(n):
                col = (42, 48, 110, 255) if (r + q) % 2 else (32, 36, 90, 255)
                x, y = bx + q * cell, by + r * cell
                d.rounded_rectangle((x + 3, y + 3, x + cell - 3, y + cell - 3), 12, fill=col)
    names = list(GEM_COLORS)
    grid = [[names[int(rng.integers(len(names)))] for _ in range(n)] for _ in range(n)]
    grid[5][2] = grid[5][3] = grid[5][4] = "yellow"  # a match in progress
    # selection / match highlight
    with c.layer(blur=4, opacity=0.9) as d:
        d.rounded_rectangle((bx + 2 * cell, by + 5 * cell, bx + 5 * cell, by + 6 * cell), 16,
                            outline=(255, 240, 150, 255), width=5)
    for r in range(n):
        for q in range(n):
            draw_gem(c, bx + q * cell + cell / 2, by + r * cell + cell / 2, cell * 0.4, grid[r][q])
    with c.layer() as d:
        d.rounded_rectangle((bx + 2 * cell + 2, by + 5 * cell + 2, bx + 5 * cell - 2, by + 6 * cell - 2), 14,
                            outline=(255, 250, 210, 255), width=3)
    for q in (2, 3, 4):
        c.glow(bx + q * cell + cell / 2, by + 5.5 * cell, 30, (255, 230, 120), 0.5)
    # sparkles
    for _ in range(14):
        x, y = bx + rng.uniform(0, n * cell), by + rng.uniform(0, n * cell)
        c.glow(x, y, 2, (255, 255, 255), 1.0)
        c.glow(x, y, 14, (255, 255, 255), 0.6, ry=1.2)
        c.glow(x, y, 14, (255, 255, 255), 0.6, ry=1.2, angle=90)
    c.text_fx((bx + n * cell / 2, by + 5.5 * cell - 58), "+150", BOLD, 44,
              gradient=[(0, (255, 255, 230)), (1, (255, 190, 60))], outline=(90, 30, 10, 255), outline_w=3)
    return c.final(noise=2.0, seed=3)


def make_boss() -> Image.Image:
    W = H = 700
    rng = np.random.default_rng(401)
    c = Canvas(W, H, transparent=True)
    cx, cy = 350, 380
    # soft aura (semi-transparent)
    with c.layer(blur=40, opacity=0.55) as d:
        d.ellipse((cx - 250, cy - 240, cx + 250, cy + 230), fill=(130, 60, 255, 255))
    # wings
    for side in (-1, 1):
        wing = [(cx + side * 60, cy - 40), (cx + side * 300, cy - 170), (cx + side * 320, cy - 60),
                (cx + side * 290, cy + 40), (cx + side * 300, cy + 110), (cx + side * 220, cy + 130),
                (cx + side * 80, cy + 90)]
        with c.layer(gradient=[(0, (90, 60, 190)), (1, (30, 15, 80))]) as d:
            d.polygon(wing, fill=(255, 255, 255, 255))
        with c.layer(opacity=0.6) as d:  # wing ribs from the root towards the tips
            rx, ry = cx + side * 80, cy + 20
            for px, py in wing[1:6]:
                d.line([(rx, ry), (rx + 0.85 * (px - rx), ry + 0.85 * (py - ry))],
                       fill=(170, 140, 255, 255), width=3)
    # body
    with c.layer(gradient=[(0, (120, 80, 220)), (0.6, (60, 30, 140)), (1, (30, 12, 70))]) as d:
        d.ellipse((cx - 150, cy - 170, cx + 150, cy + 200), fill=(255, 255, 255, 255))
    # ears / horns
    for side in (-1, 1):
        with c.layer(gradient=[(0, (255, 220, 120)), (1, (110, 60, 170))]) as d:
            d.polygon([(cx + side * 70, cy - 140), (cx + side * 150, cy - 260), (cx + side * 140, cy - 100)],
                      fill=(255, 255, 255, 255))
    # belly with star pattern
    with c.layer(gradient=[(0, (200, 180, 255)), (1, (120, 100, 210))]) as d:
        d.ellipse((cx - 90, cy - 10, cx + 90, cy + 180), fill=(255, 255, 255, 255))
    with c.layer(opacity=0.7) as d:
        for _ in range(9):
            x, y = cx + rng.uniform(-60, 60), cy + rng.uniform(20, 160)
            d.star(x, y, 9, 4, fill=(255, 250, 220, 255))
    # eyes
    for side in (-1, 1):
        ex, ey = cx + side * 62, cy - 70
        with c.layer(blur=12, opacity=0.9) as d:
            d.circle(ex, ey, 52, fill=(255, 210, 60, 255))
        with c.layer() as d:
            d.circle(ex, ey, 48, fill=(30, 10, 50, 255))
        with c.layer(gradient=[(0, (255, 250, 180)), (1, (255, 150, 20))]) as d:
            d.circle(ex, ey, 40, fill=(255, 255, 255, 255))
        with c.layer() as d:
            d.ellipse((ex - 9, ey - 30, ex + 9, ey + 30), fill=(20, 5, 30, 255))
            d.circle(ex - 14, ey - 16, 8, fill=(255, 255, 255, 255))
    # brows
    with c.layer() as d:
        for side in (-1, 1):
            d.polygon([(cx + side * 10, cy - 110), (cx + side * 120, cy - 150), (cx + side * 110, cy - 125),
                       (cx + side * 20, cy - 95)], fill=(30, 10, 60, 255))
    # beak
    with c.layer(gradient=[(0, (255, 220, 110)), (1, (230, 120, 30))]) as d:
        d.polygon([(cx - 22, cy - 20), (cx + 22, cy - 20), (cx, cy + 25)], fill=(255, 255, 255, 255))
    # feet
    with c.layer() as d:
        for side in (-1, 1):
            for t in (-1, 0, 1):
                fx = cx + side * 60 + t * 16
                d.ellipse((fx - 9, cy + 180, fx + 9, cy + 222), fill=(255, 180, 60, 255))
    # crown of stars
    for i in range(5):
        a = math.radians(-90 + (i - 2) * 22)
        x, y = cx + 250 * math.cos(a), cy - 40 + 250 * math.sin(a)
        with c.layer(blur=5, opacity=0.8) as d:
            d.star(x, y, 26, 11, fill=(255, 220, 100, 255))
        with c.layer(gradient=[(0, (255, 255, 220)), (1, (255, 180, 40))]) as d:
            d.star(x, y, 22, 9, fill=(255, 255, 255, 255))
    im = c.final(mode="RGBA")
    # zero the colour of fully transparent pixels (smaller, deterministic PNG)
    arr = np.array(im)
    arr[arr[..., 3] == 0] = 0
    return Image.fromarray(arr, "RGBA")


def make_map() -> Image.Image:
    W, H = 1000, 750
    rng = np.random.default_rng(501)
    c = Canvas(W, H)
    c.vgradient([(0, (6, 30, 60)), (0.5, (10, 50, 90)), (1, (16, 30, 70))])
    c.starfield(rng, 160, big=0.03)
    c.glow(500, 380, 450, (40, 110, 160), 0.35)
    # clouds
    with c.layer(blur=14, opacity=0.35) as d:
        for _ in range(10):
            x, y = rng.uniform(0, W), rng.uniform(80, H)
            for _ in range(4):
                ox, oy, r = rng.uniform(-60, 60), rng.uniform(-15, 15), rng.uniform(30, 60)
                d.ellipse((x + ox - r, y + oy - r * 0.6, x + ox + r, y + oy + r * 0.6), fill=(180, 210, 255, 255))
    # islands
    islands = [(170, 590, 150), (420, 470, 130), (700, 560, 140), (820, 280, 130), (520, 220, 110), (220, 280, 110)]
    for ix, iy, s in islands:
        blobs = [(ix + rng.uniform(-0.5, 0.5) * s, iy + rng.uniform(-0.15, 0.15) * s, rng.uniform(0.35, 0.55) * s)
                 for _ in range(5)]
        with c.layer(blur=3, opacity=0.8) as d:
            for x, y, r in blobs:
                d.ellipse((x - r, y - r * 0.45 + 18, x + r, y + r * 0.45 + 30), fill=(5, 15, 30, 255))
        with c.layer(gradient=[(0, (60, 150, 120)), (1, (30, 80, 90))]) as d:
            for x, y, r in blobs:
                d.ellipse((x - r, y - r * 0.45, x + r, y + r * 0.45), fill=(255, 255, 255, 255))
        with c.layer(gradient=[(0, (70, 60, 110)), (1, (30, 25, 60))]) as d:
            for x, y, r in blobs:
                d.ellipse((x - r * 0.9, y, x + r * 0.9, y + r * 0.55 + 14), fill=(255, 255, 255, 255))
        with c.layer(gradient=[(0, (110, 200, 140)), (1, (50, 130, 110))]) as d:
            for x, y, r in blobs:
                d.ellipse((x - r, y - r * 0.45, x + r, y + r * 0.3), fill=(255, 255, 255, 255))
        with c.layer() as d:  # little trees
            for _ in range(4):
                x, y = ix + rng.uniform(-0.45, 0.45) * s, iy + rng.uniform(-0.2, 0.05) * s
                d.polygon([(x, y - 26), (x - 11, y), (x + 11, y)], fill=(20, 80, 70, 255))
    # level path (Catmull-Rom through the nodes)
    nodes = [(110, 660), (220, 570), (360, 520), (470, 440), (640, 520), (760, 470), (830, 330), (700, 250),
             (540, 190), (380, 140)]

    def catmull(p0, p1, p2, p3, t):
        return tuple(0.5 * (2 * p1[i] + (-p0[i] + p2[i]) * t + (2 * p0[i] - 5 * p1[i] + 4 * p2[i] - p3[i]) * t * t
                            + (-p0[i] + 3 * p1[i] - 3 * p2[i] + p3[i]) * t ** 3) for i in range(2))

    pts = [nodes[0]] + nodes + [nodes[-1]]
    path = []
    for i in range(1, len(pts) - 2):
        for j in range(20):
            path.append(catmull(pts[i - 1], pts[i], pts[i + 1], pts[i + 2], j / 20))
    path.append(nodes[-1])
    with c.layer(opacity=0.5) as d:
        d.line(path, fill=(10, 20, 40, 255), width=12, joint="curve")
    with c.layer() as d:
        for i, (x, y) in enumerate(path):
            if i % 4 == 0:
                d.circle(x, y, 4, fill=(255, 240, 200, 255))
    current = 6
    for i, (x, y) in enumerate(nodes):
        done, cur = i < current, i == current
        if cur:
            c.glow(x, y, 60, (255, 220, 120), 0.8)
        with c.layer(blur=2, opacity=0.6) as d:
            d.circle(x + 3, y + 6, 30, fill=(0, 0, 0, 255))
        grad = ([(0, (255, 240, 150)), (1, (230, 140, 30))] if done else
                [(0, (160, 255, 255)), (1, (40, 150, 230))] if cur else
                [(0, (130, 140, 170)), (1, (70, 75, 100))])
        with c.layer() as d:
            d.circle(x, y, 30, fill=(30, 20, 50, 255))
        with c.layer(gradient=grad) as d:
            d.circle(x, y, 26, fill=(255, 255, 255, 255))
        c.text_fx((x, y + 1), str(i + 1), BOLD, 26, gradient=[(0, (255, 255, 255)), (1, (235, 235, 255))],
                  outline=(40, 20, 40, 255), outline_w=2)
        if done:
            stars = 3 if i % 3 != 1 else 2
            with c.layer() as d:
                for s in range(3):
                    col = (255, 220, 70, 255) if s < stars else (70, 70, 100, 255)
                    d.star(x + (s - 1) * 20, y - 42 - (4 if s == 1 else 0), 10, 4.5, fill=col,
                           outline=(60, 30, 20, 255), width=1)
    # banner
    with c.layer(blur=4, opacity=0.6) as d:
        d.rounded_rectangle((300, 20, 700, 100), 40, fill=(0, 0, 0, 255))
    with c.layer(gradient=[(0, (90, 70, 200)), (1, (40, 30, 120))]) as d:
        d.rounded_rectangle((300, 16, 700, 92), 38, fill=(255, 255, 255, 255), outline=(255, 220, 120, 255),
                            width=4)
    c.text_fx((500, 44), "WORLD 2", COND_BOLD, 22, gradient=[(0, (220, 220, 255)), (1, (180, 180, 255))])
    c.text_fx((500, 71), "NEBULA ISLES", BOLD, 32, gradient=[(0, (255, 250, 210)), (1, (255, 190, 70))],
              outline=(40, 20, 60, 255), outline_w=2)
    return c.final()


def make_daybreak() -> Image.Image:
    W, H = 1024, 768
    rng = np.random.default_rng(601)
    c = Canvas(W, H)
    c.vgradient([(0, (40, 30, 90)), (0.3, (120, 60, 140)), (0.55, (240, 110, 100)),
                 (0.7, (255, 180, 100)), (0.75, (255, 225, 150)), (1, (255, 200, 120))])
    c.starfield(rng, 90, y_max=0.35, y_fade=0.35, bright=0.8, big=0.0)
    sx, sy = 512, 560
    c.glow(sx, sy, 380, (255, 200, 120), 0.6)
    with c.layer(blur=3, opacity=0.28) as d:
        for i in range(18):
            a = math.radians(180 + 5 + i * 10)
            b = math.radians(180 + 5 + i * 10 + 4)
            d.polygon([(sx, sy), (sx + 900 * math.cos(a), sy + 900 * math.sin(a)),
                       (sx + 900 * math.cos(b), sy + 900 * math.sin(b))], fill=(255, 245, 210, 255))
    c.glow(sx, sy, 120, (255, 250, 220), 0.9)
    with c.layer(gradient=[(0, (255, 255, 235)), (1, (255, 220, 130))]) as d:
        d.circle(sx, sy, 80, fill=(255, 255, 255, 255))
    # lit clouds
    for _ in range(6):
        x, y = rng.uniform(60, 960), rng.uniform(310, 440)
        blobs = [(x + rng.uniform(-90, 90), y + rng.uniform(-10, 10), rng.uniform(30, 60)) for _ in range(5)]
        with c.layer(gradient=[(0, (255, 200, 190)), (0.6, (230, 120, 130)), (1, (150, 70, 120))],
                     opacity=0.9) as d:
            for bx, by, r in blobs:
                d.ellipse((bx - r * 1.6, by - r * 0.55, bx + r * 1.6, by + r * 0.55), fill=(255, 255, 255, 255))
    for base, amp, col in [(560, 50, (150, 70, 110)), (610, 40, (100, 40, 90)), (660, 30, (60, 24, 64)),
                           (700, 20, (34, 14, 40))]:
        pts = silhouette(rng, W, base, amp, jag=1.0)
        with c.layer() as d:
            d.polygon(pts + [(W, H), (0, H)], fill=col + (255,))
    # a few birds
    with c.layer() as d:
        for _ in range(7):
            x, y, s = rng.uniform(250, 800), rng.uniform(250, 420), rng.uniform(6, 12)
            d.line([(x - s, y - s * 0.4), (x, y), (x + s, y - s * 0.4)], fill=(60, 25, 60, 255), width=2.2,
                   joint="curve")
    c.text_fx((512, 110), "DAYBREAK!", BOLD, 86, gradient=[(0, (255, 255, 240)), (1, (255, 200, 90))],
              outline=(110, 40, 70, 255), outline_w=5, glow=(255, 160, 120, 220), glow_r=12, shadow=(60, 20, 50, 180))
    with c.layer() as d:
        for i in range(3):
            d.star(432 + i * 80, 200 - (12 if i == 1 else 0), 34, 15, fill=(255, 225, 80, 255),
                   outline=(120, 50, 40, 255), width=3)
    c.text_fx((512, 255), "ALL STARS CAUGHT BEFORE SUNRISE", COND_BOLD, 26,
              gradient=[(0, (255, 255, 255)), (1, (255, 230, 210))], glow=(120, 40, 90, 230), glow_r=4)
    return c.final(noise=2.0, seed=6)


def make_lake() -> Image.Image:
    """Upright 1200x900 'photo' (meteor shower over a lake) for the EXIF test."""
    W, H = 1200, 900
    rng = np.random.default_rng(701)
    horizon = 560
    c = Canvas(W, H)
    c.vgradient([(0, (4, 8, 30)), (0.45, (20, 40, 90)), (horizon / H, (70, 80, 140)), (1, (8, 12, 30))])
    sky = Canvas(W, horizon)
    sky.vgradient([(0, (4, 8, 30)), (0.7, (20, 40, 90)), (1, (70, 80, 140))])
    sky.starfield(rng, 300, big=0.03)
    sky.glow(900, 120, 60, (255, 250, 230), 0.5)
    with sky.layer(gradient=[(0, (255, 255, 240)), (1, (230, 230, 210))]) as d:
        d.circle(900, 120, 30, fill=(255, 255, 255, 255))
    for _ in range(9):  # meteor shower radiating from the upper left
        x, y = rng.uniform(250, 1100), rng.uniform(40, 380)
        L = rng.uniform(60, 160)
        sky.shooting_star(x - L * 0.85, y - L * 0.5, x, y, color=(220, 240, 255), width=2.0)
    mts = silhouette(rng, W, horizon - 50, 60, jag=1.5)
    with sky.layer(gradient=[(0, (40, 50, 100)), (1, (20, 25, 60))]) as d:
        d.polygon(mts + [(W, horizon), (0, horizon)], fill=(255, 255, 255, 255))
    trees = silhouette(rng, W, horizon - 10, 8, jag=5, step=6)
    with sky.layer() as d:
        d.polygon(trees + [(W, horizon), (0, horizon)], fill=(8, 12, 24, 255))
        # cabin with a lit window
        d.polygon([(240, horizon - 60), (300, horizon - 100), (360, horizon - 60)], fill=(10, 10, 20, 255))
        d.rectangle((250, horizon - 60, 350, horizon), fill=(14, 14, 26, 255))
    with sky.layer() as d:
        d.rectangle((285, horizon - 45, 310, horizon - 22), fill=(255, 200, 110, 255))
    sky.glow(297, horizon - 33, 30, (255, 190, 100), 0.5)
    c.im.paste(sky.im, (0, 0))
    # reflection: flipped sky, darkened, rippled
    refl = np.asarray(sky.im.convert("RGB"), dtype=np.float64)[::-1]
    rh = min(refl.shape[0], (H - horizon) * c.k)
    refl = refl[:rh].copy()
    rows = np.arange(rh)
    shift = np.round(3 * c.k * np.sin(rows / (2.3 * c.k)) * (rows / rh + 0.2)).astype(int)
    for i in range(rh):
        refl[i] = np.roll(refl[i], shift[i], axis=0)
    fade = (0.55 - 0.35 * rows / rh)[:, None, None]
    water = np.asarray(c.im.convert("RGB"), dtype=np.float64)
    water[horizon * c.k:horizon * c.k + rh] = refl * fade + np.array([6, 10, 24]) * (1 - fade)
    c.set_array(water)
    with c.layer(opacity=0.35) as d:
        for _ in range(40):
            x, y, L = rng.uniform(0, W), rng.uniform(horizon + 10, H), rng.uniform(20, 120)
            d.line([(x, y), (x + L, y)], fill=(180, 200, 255, 255), width=1)
    c.text_fx((40, 50), "METEOR SHOWER EVENT", BOLD, 40, anchor="lm",
              gradient=[(0, (255, 255, 255)), (1, (190, 220, 255))], glow=(60, 120, 255, 200), glow_r=6)
    c.text_fx((40, 95), "TONIGHT ONLY  -  DOUBLE STARS", COND_BOLD, 24, anchor="lm",
              gradient=[(0, (255, 230, 160)), (1, (255, 190, 90))])
    return c.final(noise=2.5, seed=7)


# --------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------

ASSETS_TOML = """\
# Sample project for asset-pipeline (generated by samples/make_samples.py).
# Uses the convention layout: icon.jpg and thumbnails/<lang>/*; no [thumbnails] table.
preset = "balanced"
platform = "tiktok-minis"

[icon]
fit = "cover"
background = "#101830"

[listing]
name = "Starfall"
category = "Puzzle"
subcategory = "Match-3"
description = "Match falling stars before dawn."
regions = ["US", "JP"]
apple_team_id = "ABCDE12345"
email = "support@example.com"
scopes = ["user.info.basic"]

[listing.urls.en]
terms = "https://example.com/starfall/en/terms"
privacy = "https://example.com/starfall/en/privacy"

[listing.urls.ja]
terms = "https://example.com/starfall/ja/terms"
privacy = "https://example.com/starfall/ja/privacy"

# pt-BR has no thumbnails/pt-BR/ folder: it inherits en's thumbnails.
[listing.urls.pt-BR]
terms = "https://example.com/starfall/pt-BR/terms"
privacy = "https://example.com/starfall/pt-BR/privacy"
"""


def save_jpeg(im: Image.Image, path: Path, quality: int, exif: bytes | None = None) -> None:
    kw = dict(format="JPEG", quality=quality, subsampling=2, optimize=True, progressive=False)
    if exif is not None:
        kw["exif"] = exif
    buf = io.BytesIO()
    im.save(buf, **kw)
    path.write_bytes(buf.getvalue())


def save_png(im: Image.Image, path: Path) -> None:
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=True)
    path.write_bytes(buf.getvalue())


def main() -> None:
    if PROJECT.exists():
        shutil.rmtree(PROJECT)
    en = PROJECT / "thumbnails" / "en"
    ja = PROJECT / "thumbnails" / "ja"
    en.mkdir(parents=True)
    ja.mkdir(parents=True)

    save_jpeg(make_icon(), PROJECT / "icon.jpg", 88)

    save_png(make_title("en"), en / "01_title.png")

    gameplay = make_gameplay()
    save_jpeg(gameplay, en / "02_gameplay.jpg", 88)
    # near-duplicate: same art, downscaled, +2% brightness, re-encoded at q75
    copy = gameplay.resize((900, 675), Image.Resampling.LANCZOS)
    copy = ImageEnhance.Brightness(copy).enhance(1.02)
    save_jpeg(copy, en / "03_gameplay_copy.jpg", 75)

    save_png(make_boss(), en / "04_boss.png")
    save_png(make_map(), en / "05_night_map.png")
    save_jpeg(make_daybreak(), en / "06_daybreak.jpg", 88)

    save_png(make_title("ja"), ja / "01_title_ja.png")

    upright = make_lake()
    # Orientation 6 = "rotate 90 deg CW to display": store the pixels rotated
    # 90 deg counter-clockwise so exif_transpose() restores the upright scene.
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    save_jpeg(stored, ja / "02_photo_rotated.jpg", 88, exif=exif.tobytes())
    with Image.open(ja / "02_photo_rotated.jpg") as im:
        fixed = ImageOps.exif_transpose(im)
        assert im.size == (900, 1200) and fixed.size == (1200, 900), (im.size, fixed.size)

    (PROJECT / "assets.toml").write_text(ASSETS_TOML, encoding="utf-8", newline="\n")

    for p in sorted(PROJECT.rglob("*")):
        if p.is_file():
            print(f"{p.relative_to(HERE)}  {p.stat().st_size} bytes")


if __name__ == "__main__":
    main()
