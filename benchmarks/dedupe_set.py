"""The labelled dedupe evaluation set, built from the project's own art (deterministic).

Sources ("families") are the Starfall sample thumbnails and icon, the ``small`` benchmark
corpus, and synthetic flat, two-tone and transparent art drawn here. Each family's original
is capped to 720 px on its long side, then turned into variants, each written as a real file:

* duplicates (same art id as the original): re-encode (JPEG q70; WebP q75 keeps alpha),
  downscale to 50 % and 30 %, crops of 2 % (split over the sides) and 5 % (one corner),
  brightness and contrast +-10 %, a small watermark (text + badge, ~18 % of the width), and
  a combination (3 % crop, 60 % downscale, JPEG q80).
* not duplicates (a new art id each): hue rotated by 30, 90 and 180 degrees, red/blue swap,
  greyscale, a "night" tint, the centre third recoloured (hue +120), a horizontal mirror.
  A colour variant is made only when it really changes colour (mean CIE76 dE >= 6 over the
  visible pixels), a mirror only when the art is not mirror-symmetric (mean luminance
  difference >= 8/255): otherwise the "variant" would be the same picture.

Two files are duplicates exactly when their art ids match. Families alternate between a
"tune" and a "test" split so thresholds can be chosen on one half and checked on the other.

    python benchmarks/dedupe_set.py          # (re)generate benchmarks/.corpus/dedupe/
"""

from __future__ import annotations

import io
import json
import math
import shutil
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from asset_pipeline.dedupe import srgb_to_lab  # one CIELAB conversion for the project
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(REPO))

from benchmarks.corpus import ensure_corpus  # noqa: E402

DEFAULT_DIR = HERE / ".corpus" / "dedupe"
SET_VERSION = 2  # bump when the set changes, so a stale folder is rebuilt
MAX_SIDE = 720
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
MIN_COLOUR_DE = 6.0
MIN_MIRROR_DIFF = 8.0


@dataclass(frozen=True, slots=True)
class Item:
    """One file of the set. Same `art` = duplicates."""

    file: str  # relative to the set folder
    family: str
    art: str
    kind: str  # "original", a duplicate transform, or a variant ("hue90", "mirror", ...)
    duplicate: bool  # True for the original and its duplicate transforms
    split: str  # "tune" | "test"
    group: str  # "photo", "flat", "sample", "solid", "two-tone", "transparent"


# ------------------------------------------------------------------ colour helpers


def _visible(im: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """RGB composited over grey, and a mask of the pixels that are not fully transparent."""
    rgba = im.convert("RGBA")
    base = Image.new("RGBA", rgba.size, (128, 128, 128, 255))
    rgb = np.asarray(Image.alpha_composite(base, rgba).convert("RGB"))
    return rgb, np.asarray(rgba.getchannel("A")) > 0


def _mean_delta_e(a: Image.Image, b: Image.Image) -> float:
    ra, mask = _visible(a)
    rb, _ = _visible(b)
    d = np.linalg.norm(srgb_to_lab(ra) - srgb_to_lab(rb), axis=-1)
    return float(d[mask].mean()) if mask.any() else 0.0


def _mirror_difference(im: Image.Image) -> float:
    small = im.convert("RGBA").resize((64, 64), Image.Resampling.BOX)
    lum = np.asarray(Image.fromarray(_visible(small)[0]).convert("L"), np.float32)
    return float(np.abs(lum - lum[:, ::-1]).mean())


# ------------------------------------------------------------------ transforms


def _keep_alpha(im: Image.Image, fn: Callable[[Image.Image], Image.Image]) -> Image.Image:
    """Apply an RGB operation, carrying the alpha channel through untouched."""
    if im.mode == "RGBA":
        out = fn(im.convert("RGB")).convert("RGB")
        out.putalpha(im.getchannel("A"))
        return out
    return fn(im).convert("RGB")


def _hue(im: Image.Image, degrees: float, mask: Image.Image | None = None) -> Image.Image:
    def rotate(rgb: Image.Image) -> Image.Image:
        hsv = np.asarray(rgb.convert("HSV")).copy()
        hsv[..., 0] = (hsv[..., 0].astype(np.int32) + round(degrees / 360 * 256)) % 256
        shifted = Image.fromarray(hsv, "HSV").convert("RGB")
        return shifted if mask is None else Image.composite(shifted, rgb, mask)

    return _keep_alpha(im, rotate)


def _centre_mask(size: tuple[int, int]) -> Image.Image:
    """A soft ellipse over about a third of the picture."""
    w, h = size
    mask = Image.new("L", size, 0)
    rx, ry = w * math.sqrt(1 / (3 * math.pi)) * 1.0, h * math.sqrt(1 / (3 * math.pi)) * 1.0
    ImageDraw.Draw(mask).ellipse((w / 2 - rx, h / 2 - ry, w / 2 + rx, h / 2 + ry), fill=255)
    return mask


def _crop(im: Image.Image, fraction: float, split: tuple[float, float]) -> Image.Image:
    """Remove `fraction` of each dimension, `split` of it from the left/top."""
    w, h = im.size
    dx, dy = round(w * fraction), round(h * fraction)
    left, top = round(dx * split[0]), round(dy * split[1])
    return im.crop((left, top, w - (dx - left), h - (dy - top)))


def _scale(im: Image.Image, factor: float) -> Image.Image:
    w, h = im.size
    return im.resize((max(1, round(w * factor)), max(1, round(h * factor))), Image.Resampling.LANCZOS)


def _watermark(im: Image.Image) -> Image.Image:
    """A studio mark in the bottom-right corner: a small badge and text, about 18 % wide."""
    w, h = im.size
    layer = Image.new("RGBA", im.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    size = max(8, round(h * 0.045))
    font = ImageFont.truetype(str(FONT), size)
    text = "(c) Studio"
    tw = d.textlength(text, font=font)
    x1, y1 = w - round(w * 0.03), h - round(h * 0.03)
    d.text((x1, y1), text, font=font, fill=(255, 255, 255, 190), anchor="rb",
           stroke_width=max(1, size // 12), stroke_fill=(0, 0, 0, 150))
    r = size * 0.6
    cx, cy = x1 - tw - r * 1.6, y1 - size * 0.45
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 255, 255, 170), outline=(0, 0, 0, 140))
    base = im.convert("RGBA")
    out = Image.alpha_composite(base, layer)
    return out if im.mode == "RGBA" else out.convert("RGB")


def _night(rgb: Image.Image) -> Image.Image:
    arr = np.asarray(rgb, np.float32) * np.array([0.55, 0.65, 1.0], np.float32)
    return Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8), "RGB")


def _swap_rb(rgb: Image.Image) -> Image.Image:
    r, g, b = rgb.split()
    return Image.merge("RGB", (b, g, r))


# name -> (transform, is it the same art?)
Transform = Callable[[Image.Image, np.random.Generator], Image.Image]
DUPLICATES: dict[str, Transform] = {
    "reencode": lambda im, rng: im,  # the encoding is what changes (see _encode)
    "down50": lambda im, rng: _scale(im, 0.5),
    "down30": lambda im, rng: _scale(im, 0.3),
    "crop2": lambda im, rng: _crop(im, 0.02, (float(rng.uniform()), float(rng.uniform()))),
    "crop5": lambda im, rng: _crop(im, 0.05, (1.0, 1.0) if rng.uniform() < 0.5 else (0.0, 0.0)),
    "bright+10": lambda im, rng: _keep_alpha(im, lambda x: ImageEnhance.Brightness(x).enhance(1.10)),
    "bright-10": lambda im, rng: _keep_alpha(im, lambda x: ImageEnhance.Brightness(x).enhance(0.90)),
    "contrast+10": lambda im, rng: _keep_alpha(im, lambda x: ImageEnhance.Contrast(x).enhance(1.10)),
    "contrast-10": lambda im, rng: _keep_alpha(im, lambda x: ImageEnhance.Contrast(x).enhance(0.90)),
    "watermark": lambda im, rng: _watermark(im),
    "combo": lambda im, rng: _scale(_crop(im, 0.03, (0.5, 0.5)), 0.6),
}
VARIANTS: dict[str, Transform] = {
    "hue30": lambda im, rng: _hue(im, 30),
    "hue90": lambda im, rng: _hue(im, 90),
    "hue180": lambda im, rng: _hue(im, 180),
    "swap_rb": lambda im, rng: _keep_alpha(im, _swap_rb),
    "grey": lambda im, rng: _keep_alpha(im, lambda x: ImageOps.grayscale(x).convert("RGB")),
    "night": lambda im, rng: _keep_alpha(im, _night),
    "recolour_centre": lambda im, rng: _hue(im, 120, _centre_mask(im.size)),
    "mirror": lambda im, rng: ImageOps.mirror(im),
}
COLOUR_VARIANTS = {k for k in VARIANTS if k != "mirror"}


def _encode(im: Image.Image, kind: str, source_format: str) -> tuple[bytes, str]:
    """Bytes and extension: re-encodes are lossy, the rest keep the source's format."""
    buf = io.BytesIO()
    if kind in ("reencode", "combo"):
        if im.mode == "RGBA":
            im.save(buf, "WEBP", quality=75 if kind == "reencode" else 80, method=4)
            return buf.getvalue(), "webp"
        im.save(buf, "JPEG", quality=70 if kind == "reencode" else 80)
        return buf.getvalue(), "jpg"
    if source_format == "JPEG" and im.mode == "RGB":
        im.save(buf, "JPEG", quality=92)
        return buf.getvalue(), "jpg"
    im.save(buf, "PNG", compress_level=6)
    return buf.getvalue(), "png"


# ------------------------------------------------------------------ sources


@dataclass(frozen=True, slots=True)
class Source:
    family: str
    group: str
    image: Image.Image
    format: str  # "JPEG" | "PNG": how its unmodified copies are written
    extra: tuple[tuple[str, bytes, str], ...] = ()  # (kind, bytes, ext): ready-made duplicates
    skip: frozenset[str] = frozenset()


def _cap(im: Image.Image) -> Image.Image:
    im = ImageOps.exif_transpose(im) or im
    if im.mode in ("P", "LA", "L", "I;16", "I", "RGBA") or "transparency" in im.info:
        im = im.convert("RGBA")
        if im.getchannel("A").getextrema()[0] == 255:
            im = im.convert("RGB")
    else:
        im = im.convert("RGB")
    if max(im.size) > MAX_SIDE:
        f = MAX_SIDE / max(im.size)
        im = im.resize((round(im.width * f), round(im.height * f)), Image.Resampling.LANCZOS)
    return im


def _open(path: Path) -> Image.Image:
    with Image.open(path) as im:
        im.load()
        if im.mode.startswith("I"):  # 16-bit greyscale: scale to 8 bits before converting
            return im.point(lambda v: v / 256).convert("L").convert("RGB")
        return im.copy()


def _sample_sources() -> list[Source]:
    root = REPO / "samples" / "starfall"
    files = ["icon.jpg", "thumbnails/en/01_title.png", "thumbnails/en/02_gameplay.jpg", "thumbnails/en/04_boss.png",
             "thumbnails/en/05_night_map.png", "thumbnails/en/06_daybreak.jpg", "thumbnails/ja/01_title_ja.png",
             "thumbnails/ja/02_photo_rotated.jpg"]
    out = []
    for rel in files:
        path = root / rel
        extra: tuple[tuple[str, bytes, str], ...] = ()
        if rel.endswith("02_gameplay.jpg"):  # the sample's own near-duplicate, as shipped
            extra = (("sample_copy", (root / "thumbnails/en/03_gameplay_copy.jpg").read_bytes(), "jpg"),)
        fmt = "JPEG" if rel.endswith(".jpg") else "PNG"
        out.append(Source(family=f"sample/{Path(rel).stem}", group="sample", image=_cap(_open(path)), format=fmt, extra=extra))
    return out


def _corpus_sources() -> list[Source]:
    out = []
    for path in ensure_corpus("small"):
        fmt = "JPEG" if path.suffix == ".jpg" else "PNG"
        group = "photo" if path.name.startswith("photo_") else "flat"
        out.append(Source(family=f"corpus/{path.stem}", group=group, image=_cap(_open(path)), format=fmt))
    return out


SOLIDS = {
    "red": (200, 30, 30), "darkred": (120, 18, 18), "blue": (30, 60, 200), "green": (40, 160, 60),
    "grey": (128, 128, 128), "white": (250, 250, 250), "black": (18, 18, 18), "yellow": (240, 200, 40),
}
# (foreground, background); "iso" is red on green of about the same luminance (Pillow's L)
PAIRS = {
    "white-red": ((250, 250, 250), (200, 30, 30)),
    "white-blue": ((250, 250, 250), (30, 60, 200)),
    "iso": ((230, 40, 40), (40, 130, 60)),
    "yellow-black": ((240, 200, 40), (18, 18, 18)),
}
# The synthetic families are already each other's colour variants (one shape in several
# colour pairs, one sprite in two colours, eight plain colours); recolouring them again
# would make "different art" that is the same picture as another family.
SYNTHETIC_SKIP = frozenset(COLOUR_VARIANTS)
SHAPES = ("circle", "star", "stripes", "checker", "triangle")
SPRITES = ("star", "heart", "bolt", "ring", "blob")


def _star(cx: float, cy: float, r: float, n: int = 5) -> list[tuple[float, float]]:
    return [(cx + (r if i % 2 == 0 else r * 0.45) * math.cos(math.pi * i / n - math.pi / 2),
             cy + (r if i % 2 == 0 else r * 0.45) * math.sin(math.pi * i / n - math.pi / 2)) for i in range(2 * n)]


def _shape_mask(shape: str, w: int, h: int) -> Image.Image:
    """A white-on-black mask of a simple shape (drawn at 2x for anti-aliasing)."""
    W, H = w * 2, h * 2
    m = Image.new("L", (W, H), 0)
    d = ImageDraw.Draw(m)
    s = min(W, H)
    cx, cy = W / 2, H / 2
    if shape == "circle":
        d.ellipse((cx - 0.32 * s, cy - 0.32 * s, cx + 0.32 * s, cy + 0.32 * s), fill=255)
    elif shape == "star":
        d.polygon(_star(cx, cy + 0.03 * s, 0.42 * s), fill=255)
    elif shape == "stripes":
        step = W / 8
        for i in range(-8, 16, 2):
            x = i * step
            d.polygon([(x, 0), (x + step, 0), (x + step - H, H), (x - H, H)], fill=255)
    elif shape == "checker":
        for j in range(4):
            for i in range(4):
                if (i + j) % 2 == 0:
                    d.rectangle((i * W / 4, j * H / 4, (i + 1) * W / 4, (j + 1) * H / 4), fill=255)
    elif shape == "triangle":
        d.polygon([(cx - 0.1 * s, cy - 0.4 * s), (cx + 0.38 * s, cy + 0.34 * s), (cx - 0.38 * s, cy + 0.2 * s)], fill=255)
    elif shape == "heart":
        r = 0.2 * s
        d.ellipse((cx - 2 * r, cy - 1.6 * r, cx, cy + 0.4 * r), fill=255)
        d.ellipse((cx, cy - 1.6 * r, cx + 2 * r, cy + 0.4 * r), fill=255)
        d.polygon([(cx - 1.9 * r, cy - 0.2 * r), (cx + 1.9 * r, cy - 0.2 * r), (cx, cy + 2 * r)], fill=255)
    elif shape == "bolt":
        pts = [(0.55, 0.1), (0.25, 0.55), (0.47, 0.55), (0.38, 0.9), (0.75, 0.4), (0.53, 0.4), (0.65, 0.1)]
        d.polygon([(x * W, y * H) for x, y in pts], fill=255)
    elif shape == "ring":
        d.ellipse((cx - 0.4 * s, cy - 0.4 * s, cx + 0.4 * s, cy + 0.4 * s), fill=255)
        d.ellipse((cx - 0.22 * s, cy - 0.22 * s, cx + 0.1 * s, cy + 0.1 * s), fill=0)
    elif shape == "blob":
        for k in range(6):
            a = k * math.pi / 3
            r = 0.16 * s * (1 + 0.4 * (k % 3 == 0))
            x, y = cx + 0.18 * s * math.cos(a), cy + 0.12 * s * math.sin(a)
            d.ellipse((x - r, y - r, x + r, y + r), fill=255)
    else:  # pragma: no cover - programming error
        raise ValueError(shape)
    return m.resize((w, h), Image.Resampling.LANCZOS)


def _synthetic_sources() -> list[Source]:
    out = []
    for name, colour in SOLIDS.items():
        im = Image.new("RGB", (640, 480), colour)
        # watermark and crops mean nothing on a plain colour: no structure to keep or lose
        out.append(Source(family=f"solid/{name}", group="solid", image=im, format="PNG",
                          skip=frozenset({"watermark", "mirror"}) | SYNTHETIC_SKIP))
    for shape in SHAPES:
        for pair, (fg, bg) in PAIRS.items():
            mask = _shape_mask(shape, 600, 600)
            im = Image.composite(Image.new("RGB", (600, 600), fg), Image.new("RGB", (600, 600), bg), mask)
            out.append(Source(family=f"two-tone/{shape}-{pair}", group="two-tone", image=im, format="PNG",
                              skip=SYNTHETIC_SKIP))
    for sprite in SPRITES:
        for colour_name, colour in (("orange", (245, 140, 30)), ("teal", (20, 150, 160))):
            # exporters often keep the fill colour under transparent pixels: a luminance hash
            # that ignores alpha sees a plain colour, whatever the shape
            im = Image.new("RGB", (512, 512), colour)
            im.putalpha(_shape_mask(sprite, 512, 512))
            hidden = Image.new("RGB", (512, 512), (0, 0, 0))
            hidden.putalpha(im.getchannel("A"))
            visible = Image.composite(im.convert("RGB"), hidden.convert("RGB"), im.getchannel("A"))
            visible.putalpha(im.getchannel("A"))
            buf = io.BytesIO()
            visible.save(buf, "PNG")
            out.append(Source(family=f"transparent/{sprite}-{colour_name}", group="transparent", image=im, format="PNG",
                              extra=(("hidden_black", buf.getvalue(), "png"),), skip=SYNTHETIC_SKIP))
    return out


# ------------------------------------------------------------------ building


def build_set(folder: Path = DEFAULT_DIR) -> list[Item]:
    """Write the set into `folder` (replacing it) and return its labels."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    items: list[Item] = []
    sources = _sample_sources() + _corpus_sources() + _synthetic_sources()
    for index, src in enumerate(sources):
        split = "tune" if index % 2 == 0 else "test"
        rng = np.random.default_rng(1000 + index)
        fam_dir = folder / src.family
        fam_dir.mkdir(parents=True)

        def write(kind: str, data: bytes, ext: str, art: str, duplicate: bool, *, _src: Source = src,
                  _dir: Path = fam_dir, _split: str = split) -> None:
            (_dir / f"{kind}.{ext}").write_bytes(data)
            items.append(Item(file=f"{_src.family}/{kind}.{ext}", family=_src.family, art=art, kind=kind,
                              duplicate=duplicate, split=_split, group=_src.group))

        data, ext = _encode(src.image, "original", src.format)
        write("original", data, ext, src.family, True)
        for kind, fn in DUPLICATES.items():
            if kind in src.skip:
                continue
            data, ext = _encode(fn(src.image, rng), kind, src.format)
            write(kind, data, ext, src.family, True)
        for kind, data, ext in src.extra:
            write(kind, data, ext, src.family, True)
        for kind, fn in VARIANTS.items():
            if kind in src.skip:
                continue
            variant = fn(src.image, rng)
            if kind in COLOUR_VARIANTS and _mean_delta_e(src.image, variant) < MIN_COLOUR_DE:
                continue  # (nearly) grey art: the "colour variant" looks the same
            if kind == "mirror" and _mirror_difference(src.image) < MIN_MIRROR_DIFF:
                continue  # symmetric art: its mirror is the same picture
            data, ext = _encode(variant, kind, src.format)
            write(kind, data, ext, f"{src.family}/{kind}", False)
    (folder / "labels.json").write_text(json.dumps({"version": SET_VERSION, "items": [asdict(i) for i in items]}, indent=1))
    return items


def load_set(folder: Path = DEFAULT_DIR) -> list[Item]:
    """The labelled set, generated first when missing or from an older version."""
    labels = folder / "labels.json"
    if labels.is_file():
        data = json.loads(labels.read_text())
        if data.get("version") == SET_VERSION:
            return [Item(**i) for i in data["items"]]
    return build_set(folder)


if __name__ == "__main__":
    built = build_set()
    dup = sum(1 for i in built if i.duplicate and i.kind != "original")
    print(f"{len(built)} files in {DEFAULT_DIR}: {len({i.family for i in built})} families, "
          f"{dup} duplicate transforms, {sum(1 for i in built if not i.duplicate)} variants")
