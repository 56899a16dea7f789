"""Write real ICC profiles byte by byte, so tests can tag sources with wide-gamut and print colour.

ImageCms can only create sRGB, LAB and XYZ profiles, and no P3, Adobe RGB or CMYK profile ships
with Pillow or this machine. The profiles here follow the ICC specification (ICC.1:2010, v4.3
for the RGB and grey matrix/TRC profiles, v2.1 `lut16Type` for the CMYK one) and are read by
LittleCMS like any profile a camera or Photoshop embeds:

* `display_p3()`: Display P3 (DCI-P3 primaries, D65 white, the sRGB transfer curve as a
  `para` curve), the profile Apple devices embed in photos and screenshots.
* `adobe_rgb()`: Adobe RGB (1998) (gamma 563/256).
* `grey_linear()`: a grey profile with a linear (gamma 1.0) tone curve.
* `cmyk_inks()`: a CMYK printer profile whose A2B0 table maps each corner of the CMYK cube to
  the colour of real process inks printed on white paper; black ink is a perfect black.

Colorants are adapted from D65 to the D50 PCS with the Bradford transform, as the spec asks;
nothing here is taken from the published P3 -> sRGB matrices the tests compare against.
"""

from __future__ import annotations

import hashlib
import struct

import numpy as np

D50 = np.array([0.9642, 1.0, 0.8249])
D65_XY = (0.3127, 0.3290)
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])


def _xy_to_xyz(x: float, y: float) -> np.ndarray:
    return np.array([x / y, 1.0, (1 - x - y) / y])


def rgb_to_xyz_matrix(primaries: tuple[tuple[float, float], ...], white: tuple[float, float] = D65_XY) -> np.ndarray:
    """The RGB -> XYZ matrix of an RGB space given by its xy primaries and white point."""
    cols = np.stack([_xy_to_xyz(*p) for p in primaries], axis=1)
    scale = np.linalg.solve(cols, _xy_to_xyz(*white))
    return cols * scale


def bradford(src_white: np.ndarray, dst_white: np.ndarray = D50) -> np.ndarray:
    cone_src, cone_dst = _BRADFORD @ src_white, _BRADFORD @ dst_white
    return np.linalg.inv(_BRADFORD) @ np.diag(cone_dst / cone_src) @ _BRADFORD


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz_tag(xyz: np.ndarray) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in xyz)


def _mluc(text: str) -> bytes:
    body = text.encode("utf-16-be")
    return b"mluc\0\0\0\0" + struct.pack(">II2s2sII", 1, 12, b"en", b"US", len(body), 28) + body


def _desc_v2(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\0"
    return b"desc\0\0\0\0" + struct.pack(">I", len(ascii_)) + ascii_ + struct.pack(">II", 0, 0) + struct.pack(">HB", 0, 0) + b"\0" * 67


def _text_v2(text: str) -> bytes:
    return b"text\0\0\0\0" + text.encode("ascii") + b"\0"


def _para_srgb() -> bytes:
    # ICC parametric curve type 3: Y = (aX + b)^g for X >= d, else cX
    g, a, b, c, d = 2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045
    return b"para\0\0\0\0" + struct.pack(">HH", 3, 0) + b"".join(_s15(v) for v in (g, a, b, c, d))


def _curv_gamma(gamma: float) -> bytes:
    return b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"


def _assemble(header_fields: dict[str, bytes], tags: list[tuple[bytes, bytes]], *, version: int) -> bytes:
    """Header + tag table + 4-byte aligned tag data; identical tag bodies are shared."""
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    data = b""
    seen: dict[bytes, tuple[int, int]] = {}
    entries = []
    for sig, body in tags:
        if body not in seen:
            pad = (-len(data)) % 4
            data += b"\0" * pad
            seen[body] = (offset + len(data), len(body))
            data += body
        entries.append(sig + struct.pack(">II", *seen[body]))
    data += b"\0" * ((-len(data)) % 4)
    size = 128 + table_size + len(data)
    header = bytearray(128)
    struct.pack_into(">I", header, 0, size)
    header[4:8] = b"lcms"
    struct.pack_into(">I", header, 8, version)
    header[12:16] = header_fields["class"]
    header[16:20] = header_fields["space"]
    header[20:24] = header_fields["pcs"]
    struct.pack_into(">6H", header, 24, 2024, 1, 1, 0, 0, 0)  # fixed date: deterministic bytes
    header[36:40] = b"acsp"
    header[68:80] = b"".join(_s15(v) for v in D50)
    profile = bytearray(bytes(header) + struct.pack(">I", len(tags)) + b"".join(entries) + data)
    if version >= 0x04000000:  # v4 profile ID: MD5 with flags, intent and ID zeroed
        scratch = bytearray(profile)
        scratch[44:48] = scratch[64:68] = b"\0" * 4
        scratch[84:100] = b"\0" * 16
        profile[84:100] = hashlib.md5(bytes(scratch)).digest()
    return bytes(profile)


def _matrix_trc(name: str, primaries: tuple[tuple[float, float], ...], trc: bytes) -> bytes:
    m = rgb_to_xyz_matrix(primaries)
    white = m @ np.ones(3)
    chad = bradford(white)
    colorants = chad @ m
    tags = [
        (b"desc", _mluc(name)),
        (b"cprt", _mluc("No copyright, use freely (asset-pipeline tests)")),
        (b"wtpt", _xyz_tag(D50)),
        (b"chad", b"sf32\0\0\0\0" + b"".join(_s15(v) for v in chad.flatten())),
        (b"rXYZ", _xyz_tag(colorants[:, 0])),
        (b"gXYZ", _xyz_tag(colorants[:, 1])),
        (b"bXYZ", _xyz_tag(colorants[:, 2])),
        (b"rTRC", trc),
        (b"gTRC", trc),
        (b"bTRC", trc),
    ]
    return _assemble({"class": b"mntr", "space": b"RGB ", "pcs": b"XYZ "}, tags, version=0x04300000)


P3_PRIMARIES = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))
ADOBE_PRIMARIES = ((0.64, 0.33), (0.21, 0.71), (0.15, 0.06))
SRGB_PRIMARIES = ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06))


def display_p3() -> bytes:
    return _matrix_trc("Display P3", P3_PRIMARIES, _para_srgb())


def adobe_rgb() -> bytes:
    return _matrix_trc("Adobe RGB (1998)", ADOBE_PRIMARIES, _curv_gamma(563 / 256))


def grey_linear() -> bytes:
    tags = [
        (b"desc", _mluc("Grey, linear tone curve")),
        (b"cprt", _mluc("No copyright, use freely (asset-pipeline tests)")),
        (b"wtpt", _xyz_tag(D50)),
        (b"kTRC", _curv_gamma(1.0)),
    ]
    return _assemble({"class": b"mntr", "space": b"GRAY", "pcs": b"XYZ "}, tags, version=0x04300000)


# sRGB colours of process inks on white paper (a plausible coated-paper look, not a standard)
INKS = {"C": (0, 158, 224), "M": (229, 0, 126), "Y": (255, 237, 0), "K": (0, 0, 0)}


def srgb_decode(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64) / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def srgb_encode(lin: np.ndarray) -> np.ndarray:
    lin = np.clip(lin, 0.0, 1.0)
    return 255.0 * np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)


def ink_corner(c: int, m: int, y: int, k: int) -> tuple[float, float, float]:
    """sRGB (0-255 floats) of a cube corner: paper white times each ink's transmittance."""
    rgb = np.ones(3)
    for on, ink in zip((c, m, y, k), "CMYK", strict=True):
        if on:
            rgb = rgb * np.asarray(INKS[ink]) / 255.0
    return tuple(rgb * 255.0)  # type: ignore[return-value]


def cmyk_inks() -> bytes:
    """A v2.1 output-class CMYK profile with a 2-point-per-axis A2B0 table into PCS XYZ."""
    srgb_to_pcs = bradford(rgb_to_xyz_matrix(SRGB_PRIMARIES) @ np.ones(3)) @ rgb_to_xyz_matrix(SRGB_PRIMARIES)
    clut = bytearray()
    for c in (0, 1):  # the first input channel varies slowest
        for m in (0, 1):
            for y in (0, 1):
                for k in (0, 1):
                    xyz = srgb_to_pcs @ srgb_decode(np.asarray(ink_corner(c, m, y, k)))
                    # lut16 XYZ encoding: 1.0 is 0x8000 (u1Fixed15)
                    clut += struct.pack(">3H", *(min(65535, round(v * 32768)) for v in xyz))
    identity = b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    ramp = struct.pack(">2H", 0, 65535)
    a2b0 = b"mft2\0\0\0\0" + struct.pack(">BBBB", 4, 3, 2, 0) + identity + struct.pack(">HH", 2, 2) + ramp * 4 + bytes(clut) + ramp * 3
    tags = [
        (b"desc", _desc_v2("Process inks on white paper")),
        (b"cprt", _text_v2("No copyright, use freely (asset-pipeline tests)")),
        (b"wtpt", _xyz_tag(D50)),
        (b"A2B0", a2b0),
    ]
    return _assemble({"class": b"prtr", "space": b"CMYK", "pcs": b"XYZ "}, tags, version=0x02100000)
