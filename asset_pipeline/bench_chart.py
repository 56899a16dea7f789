"""A self-contained SVG (or HTML page) of a bench result: bytes against score, per preset.

Small dots are single images; a large diamond is a preset's mean bytes per image against its
mean score; the dashed line joins the presets on the Pareto front (no other preset has fewer
bytes and a higher score). Plain SVG text, no plotting library: the chart must render in any
browser or CI artifact viewer, and matplotlib would be a heavy dependency for one figure.
"""

from __future__ import annotations

import html
import math
from typing import Any

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")
W, H = 860, 540
LEFT, RIGHT, TOP, BOTTOM = 70, 200, 50, 60


def _fmt_bytes(n: float) -> str:
    for unit, div in (("MB", 1e6), ("kB", 1e3)):
        if n >= div:
            return f"{n / div:.3g} {unit}"
    return f"{n:g} B"


def _nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at least `raw`: round tick values."""
    exp = math.floor(math.log10(raw)) if raw > 0 else -3
    for m in (1, 2, 5, 10):
        if m * 10**exp >= raw:
            return float(m * 10**exp)
    return float(10 ** (exp + 1))


def render_svg(result: dict[str, Any]) -> str:
    names = list(result["totals"])
    points = [(name, im["results"][name]["bytes"], im["results"][name]["score"])
              for im in result["images"] for name in names if "error" not in im["results"][name]]
    summary = {n: (t["bytes"] / t["images"], t["mean_score"]) for n, t in result["totals"].items() if t["images"]}
    xs = [math.log10(max(b, 1)) for _, b, _ in points] or [3.0, 4.0]
    ys = [s for _, _, s in points] or [0.9, 1.0]
    x0, x1 = math.floor(min(xs) * 4) / 4, math.ceil(max(xs) * 4) / 4
    y0, y1 = min(ys), 1.0
    y0 = max(0.0, y0 - (y1 - y0) * 0.05) if y1 > y0 else y1 - 0.01
    x1 = x1 if x1 > x0 else x0 + 1

    def px(b: float) -> float:
        return LEFT + (math.log10(max(b, 1)) - x0) / (x1 - x0) * (W - LEFT - RIGHT)

    def py(s: float) -> float:
        return TOP + (y1 - s) / (y1 - y0) * (H - TOP - BOTTOM)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{LEFT}" y="24" font-size="15" font-weight="bold">Bytes against {html.escape(result["metric"].upper())} per preset '
           f'({len(result["images"])} images at {result["size"]}x{result["size"]})</text>']
    # axes and grid
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{W - LEFT - RIGHT}" height="{H - TOP - BOTTOM}" fill="none" stroke="#444"/>')
    for e in range(math.ceil(x0), math.floor(x1) + 1):
        for m in (1, 2, 5):
            v = m * 10**e
            if x0 <= math.log10(v) <= x1:
                x = px(v)
                out.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{H - BOTTOM}" stroke="#ddd"/>')
                out.append(f'<text x="{x:.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">{_fmt_bytes(v)}</text>')
    step = _nice_step((y1 - y0) / 5)
    for i in range(math.ceil(y0 / step), math.floor(y1 / step) + 1):
        s = i * step
        y = py(s)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{s:g}</text>')
    out.append(f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 18}" text-anchor="middle">bytes per image (log scale)</text>')
    out.append(f'<text transform="translate(18 {(TOP + H - BOTTOM) / 2}) rotate(-90)" text-anchor="middle">score against the resized source</text>')
    colour = {n: COLOURS[i % len(COLOURS)] for i, n in enumerate(names)}
    for name, b, s in points:
        out.append(f'<circle cx="{px(b):.1f}" cy="{py(s):.1f}" r="3" fill="{colour[name]}" fill-opacity="0.45"/>')
    front = sorted((summary[n] for n in names if result["totals"][n].get("pareto") and n in summary), key=lambda p: p[0])
    if len(front) > 1:
        path = " ".join(f"{px(b):.1f},{py(s):.1f}" for b, s in front)
        out.append(f'<polyline points="{path}" fill="none" stroke="#000" stroke-width="1.5" stroke-dasharray="6 4"/>')
    for name in names:
        if name not in summary:
            continue
        b, s = summary[name]
        x, y = px(b), py(s)
        ring = ' stroke="#000" stroke-width="2"' if result["totals"][name].get("pareto") else ' stroke="#fff" stroke-width="1"'
        out.append(f'<path d="M{x:.1f},{y - 8:.1f} L{x + 8:.1f},{y:.1f} L{x:.1f},{y + 8:.1f} L{x - 8:.1f},{y:.1f} Z" fill="{colour[name]}"{ring}/>')
    # legend
    lx, ly = W - RIGHT + 16, TOP + 6
    for i, name in enumerate(names):
        t = result["totals"][name]
        y = ly + i * 34
        out.append(f'<path d="M{lx},{y - 6} L{lx + 6},{y} L{lx},{y + 6} L{lx - 6},{y} Z" fill="{colour[name]}"/>')
        mark = " (Pareto)" if t.get("pareto") else ""
        out.append(f'<text x="{lx + 12}" y="{y + 4}">{html.escape(name)}{mark}</text>')
        out.append(f'<text x="{lx + 12}" y="{y + 18}" fill="#555" font-size="11">{_fmt_bytes(t["bytes"])} total, {t["mean_score"]:.4f}</text>')
    y = ly + len(names) * 34 + 8
    out.append(f'<line x1="{lx - 6}" y1="{y}" x2="{lx + 8}" y2="{y}" stroke="#000" stroke-dasharray="6 4"/>')
    out.append(f'<text x="{lx + 12}" y="{y + 4}">Pareto front</text>')
    out.append(f'<text x="{lx + 12}" y="{y + 22}" fill="#555" font-size="11">dots: images</text>')
    out.append(f'<text x="{lx + 12}" y="{y + 38}" fill="#555" font-size="11">diamonds: preset means</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render_html(result: dict[str, Any]) -> str:
    """The bench report: a self-contained page in the review page's style (html_report.CSS):
    the chart, the per-preset totals with the Pareto front, and every image's result."""
    from .bench import rows
    from .html_report import CSS

    per_image, totals = rows(result)

    def table(data: list[dict[str, Any]], caption: str) -> str:
        if not data:
            return ""
        head = "".join(f"<th>{html.escape(str(k))}</th>" for k in data[0])
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(f'{v:,}' if isinstance(v, int) else str(v))}</td>" for v in r.values()) + "</tr>"
            for r in data
        )
        return f"<table><caption class=\"note\">{html.escape(caption)}</caption><tr>{head}</tr>{body}</table>"

    csp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    metric = html.escape(str(result.get("metric", "ssim")).upper())
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        "<title>asset-pipeline bench</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n"
        '<header class="page"><h1>asset-pipeline <small>bench</small></h1>'
        f"<p>{len(result.get('images', []))} image(s); bytes against {metric} per preset, Pareto front marked</p></header>\n"
        '<main style="padding:20px 32px">\n'
        f'<section><h2>Bytes against quality</h2><figure role="img" aria-label="Bytes against {metric} per preset">{render_svg(result)}</figure></section>\n'
        f"<section><h2>Per preset</h2>{table(totals, 'Totals over every image; * = on the Pareto front (no preset is both smaller and better)')}</section>\n"
        f"<section><h2>Per image</h2>{table(per_image, 'Each image with each preset')}</section>\n"
        "</main>\n</body></html>\n"
    )
