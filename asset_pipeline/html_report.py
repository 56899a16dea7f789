"""report.html: a self-contained review page of a bundle, made from its manifest.

One static page beside manifest.json: images are referenced relatively from the bundle (or,
for dropped candidates that are not in it, embedded as small data: URIs), with no script, no
font and no network. The same manifest (and project) gives the same bytes: no timestamps.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from . import review
from .review import LanguageView

CSS = """
:root{--ink:#1d2330;--muted:#5b6474;--line:#d9dde5;--card:#fff;--bg:#f4f5f8;--accent:#2857c5;
--warn:#9a5b00; --warnbg:#fff4e0;--drop:#b3261e;--ok:#1e7a3c}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto, "Helvetica Neue",Arial,sans-serif}
header.page{background:#1d2330;color:#fff;padding:20px 32px 16px}
header.page h1{margin:0 0 4px;font-size:26px}
header.page h1 small{font-weight:400;color:#c9d1e3;font-size:18px}
header.page p{margin:2px 0;color:#c9d1e3}
header.page code{color:#fff}
.stats{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0 4px;padding:0;list-style:none}
.stats li{background:#2c3547;border-radius:6px;padding:6px 12px}
.stats b{font-size:18px;color:#fff;margin-right:4px}
nav.toc{margin-top:10px}
nav.toc a{color:#a9c1ff;margin-right:14px}
main{max-width:1280px;margin:0 auto;padding:8px 20px 40px}
section.language,section.warnings{background:var(--card);border:1px solid var(--line);
border-radius:10px; padding:8px 20px 20px;margin:20px 0}
h2{font-size:22px;margin:14px 0 6px;border-bottom:1px solid var(--line);padding-bottom:6px}
h2 code{font-size:16px;background:#eef1f7;padding:1px 6px;border-radius:4px;color:var(--muted)}
h3{font-size:17px;margin:20px 0 8px;color:#333b4d}
code{font:13px/1.3 ui-monospace,"SF Mono",Menlo,Consolas,monospace}
a{color:var(--accent)}
figure{margin:0}
figcaption{font-size:13px;color:var(--muted)}
.note{color:var(--muted);margin:4px 0 10px}
.row{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
.views figure{display:flex;flex-direction:column;gap:6px}
.maskfig{width:192px}
.sizes{display:flex;gap:14px;align-items:flex-end;padding:10px;background:#e9edf3;
border-radius:8px}
.phone{background:#15181f}
.mask{width:192px;height:192px;overflow:hidden;position:relative}
.mask.circle,.mask.circle img{border-radius:50%}
.mask.rounded,.mask.rounded img{border-radius:22%}
.cut{width:192px;height:192px;overflow:hidden;position:relative}
.cut::after{content:"";position:absolute;inset:0;box-shadow:0 0 0 200px rgba(214,0,60,.55)}
.cut.circle::after{border-radius:50%}
.cut.rounded::after{border-radius:22%}
img{display:block;max-width:100%;height:auto}
.checker{background-color:#ececec;
background-image:linear-gradient(45deg,#ccc 25%,transparent 25%), linear-gradient(-45deg,#ccc 25%,
transparent 25%),linear-gradient(45deg,transparent 75%,#ccc 75%), linear-gradient(-45deg,
transparent 75%,#ccc 75%);background-size:16px 16px;
background-position:0 0,0 8px,8px -8px,-8px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:10px;background:#fff;width:382px}
.row.cards{gap:16px}
.card.icon{width:auto;max-width:560px}
.card .title{margin:8px 0 4px;display:flex;gap:8px;align-items:center;color:var(--ink);
font-size:14px}
.slot{display:inline-block;min-width:24px;height:24px;border-radius:12px;background:var(--accent);
color:#fff; text-align:center;font-weight:700;line-height:24px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:4px 0;
font-size:13px}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0;color:var(--ink);overflow-wrap:anywhere}
ul.enc{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:4px}
ul.enc li{background:#eef1f7;border-radius:4px;padding:0 5px}
ul.flags{list-style:none;margin:6px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:6px}
ul.flags a{display:inline-block;background:var(--warnbg);color:var(--warn);
border:1px solid #f0c987; border-radius:4px;padding:1px 6px;font-size:12px;text-decoration:none}
.full{margin-top:16px}
.full img{border:1px solid var(--line)}
.inherit{background:#eef4ff;border:1px solid #c8d8fb;border-radius:8px;padding:10px 14px;
margin:6px 0}
.inherit .row{margin-top:8px}
.inherit .thumbs img{width:120px}
h4{font-size:14px;margin:16px 0 8px;color:var(--muted);font-weight:600}
.dropped{display:flex;flex-direction:column;gap:14px}
.drop{border:1px solid #efc8c5;background:#fffafa;border-radius:8px;padding:12px;display:flex;
gap:20px; flex-wrap:wrap;align-items:flex-start}
.drop figure{width:184px}
.drop figure img,.placeholder{width:160px;height:160px;object-fit:contain;background:#e9edf3}
.drop code{overflow-wrap:anywhere}
.drop .tag{font-weight:700;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.drop .tag.gone{color:var(--drop)}
.drop .tag.kept{color:var(--ok)}
.placeholder{display:flex;align-items:center;justify-content:center;text-align:center;
border:2px dashed #c3c8d2; color:var(--muted);font-size:12px;padding:6px;background:#fafbfc}
.vs{align-self:center;color:var(--muted);font-size:13px}
table{border-collapse:collapse;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:4px 10px;text-align:left;vertical-align:top}
th{color:var(--muted);font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.hit{color:var(--drop);font-weight:700}
.why{max-width:420px}
.why p{margin:0 0 8px}
table.warnings{width:100%}
table.warnings tr:target{background:#fff0b8}
.card:target,.drop:target{outline:3px solid #f2b600}
footer{color:var(--muted);font-size:12px;text-align:center;padding:16px}
@media print{ body{background:#fff;font-size:11pt}
header.page{background:#fff;color:#000;border-bottom:2px solid #000;padding:0 0 8px}
header.page h1 small,header.page p,header.page code{color:#000}
.stats li{background:#fff;border:1px solid #999}
.stats b{color:#000}
nav.toc{display:none}
main{max-width:none;padding:0}
section.language,section.warnings{border:none;padding:0}
section.language~section{break-before:page}
h2,h3,h4{break-after:avoid}
.row.cards .card{width:31%}
.full img{max-width:60%}
.card,.drop,figure,tr{break-inside:avoid}
a{color:inherit;text-decoration:none}
.cut::after{box-shadow:0 0 0 200px rgba(0,0,0,.45)}
}
"""


def render_report(manifest: Mapping[str, Any], *, project: Path | None = None, cache_root: str | None = None) -> bytes:
    """The review page of the bundle described by `manifest`, as UTF-8 bytes.

    With `project` (the source project the bundle was built from), dropped candidates get a
    small embedded preview; without it, a placeholder naming the source. With `cache_root`,
    previews are kept in the build's content-addressed cache, so a rebuild decodes nothing.
    """
    page = _Page(manifest, project)
    page.cache_root = cache_root
    return page.render().encode("utf-8")


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


def src(path: str) -> str:
    """A bundle path as a relative URL (report.html sits at the bundle's root)."""
    return e(quote(path, safe="/"))


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "x"


def fmt_bytes(n: int) -> str:
    if n >= 1_000_000:
        return f"{n:,} bytes ({n / 1_000_000:.2f} MB)"
    return f"{n:,} bytes ({n / 1000:.1f} kB)"


class _Page:
    """Builds the page; keeps the anchors so warnings and assets link to each other."""

    def __init__(self, manifest: Mapping[str, Any], project: Path | None) -> None:
        self.m = manifest
        self.project = project
        self.views = review.language_views(manifest)
        self.warnings: list[Mapping[str, Any]] = list(manifest.get("warnings", ()))
        self.previews_left = review.MAX_PREVIEWS
        self._preview_cache: dict[str, str | None] = {}
        # where each source is shown: the first place wins (en's icon before an inheriting one's)
        self.anchor_of: dict[str, str] = {}
        for v in self.views:
            if v.icon_inherited_from is None:
                self.anchor_of.setdefault(v.icon["source"]["path"], self.asset_id(v.icon["path"]))
            if v.inherited_from is None:
                for rec in v.thumbnails:
                    self.anchor_of.setdefault(rec["source"]["path"], self.asset_id(rec["path"]))
            for d in v.dropped:
                self.anchor_of.setdefault(d["source"], self.dropped_id(d))
        self.warnings_of: dict[str, list[int]] = {}
        for i, w in enumerate(self.warnings, 1):
            self.warnings_of.setdefault(str(w.get("source", "")), []).append(i)

    # --- anchors -------------------------------------------------------------------------

    @staticmethod
    def asset_id(path: str) -> str:
        return f"asset-{slug(path)}"

    @staticmethod
    def dropped_id(d: Mapping[str, Any]) -> str:
        return f"dropped-{slug(str(d.get('language', '')))}-{slug(str(d['source']))}"

    def flags(self, source: str) -> str:
        """Links from an asset to its warnings."""
        items = [
            f'<li><a href="#warning-{i}">&#9888; '
            f"{e(self.warnings[i - 1].get('code', 'warning'))}</a></li>"
            for i in self.warnings_of.get(source, ())
        ]
        return f'<ul class="flags" aria-label="Warnings">{"".join(items)}</ul>' if items else ""

    # --- page ----------------------------------------------------------------------------

    def render(self) -> str:
        title = self.title()
        body = [self.header(title), "<main>"]
        body += [self.language(v) for v in self.views]
        body.append(self.warnings_section())
        body.append("</main>")
        gen = self.m.get("generator", {})
        body.append(
            f"<footer>Made by {e(gen.get('name', 'asset-pipeline'))} {e(gen.get('version', ''))} "
            "from manifest.json "
            "(schema version " + e(self.m.get("schema_version", "?")) + "). "
            "Regenerate with <code>asset-pipeline report BUNDLE</code>.</footer>"
        )
        csp = "default-src 'none'; img-src 'self' file: data:; style-src 'unsafe-inline'"
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="generator" content="{e(gen.get("name", ""))} '
            f'{e(gen.get("version", ""))}">\n'
            f"<title>{e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body)
            + "\n</body>\n</html>\n"
        )

    def game_name(self) -> str | None:
        listing = self.m.get("listing") or {}
        name = listing.get("name") if isinstance(listing, Mapping) else None
        return str(name) if name else None

    def title(self) -> str:
        name = self.game_name()
        return f"{name}: store assets review" if name else "Store assets review"

    def header(self, title: str) -> str:
        files: dict[str, int] = {self.m["icon"]["path"]: self.m["icon"]["bytes"]}
        for v in self.views:
            files[v.icon["path"]] = v.icon["bytes"]
            for rec in v.thumbnails:
                files[rec["path"]] = rec["bytes"]
        platform = self.m.get("platform", {}).get("name", "?")
        preset = self.m.get("preset", {})
        name = self.game_name()
        heading = f"{e(name)} <small>store assets review</small>" if name else e(title)
        stats = [
            (len(files), "files to upload"),
            (f"{sum(files.values()):,}", "bytes in all"),
            (len(self.views), "languages"),
            (len(self.m.get("dropped", ())), "dropped"),
            (len(self.warnings), "warnings"),
        ]
        cap = ""
        if self.m.get("max_bytes"):
            cap = f" &middot; byte budget <code>--max-bytes {e(self.m['max_bytes'])}</code>"
        toc = "".join(f'<a href="#lang-{e(slug(v.tag))}">{e(v.tag)}</a>' for v in self.views)
        return (
            f'<header class="page">\n<h1>{heading}</h1>\n'
            f"<p>Platform profile <code>{e(platform)}</code> &middot; preset "
            f"<code>{e(preset.get('name', '?'))}</code>"
            f" (settings sha256 <code>{e(str(preset.get('sha256', ''))[:12])}</code>){cap}</p>\n"
            '<ul class="stats">'
            + "".join(f"<li><b>{e(n)}</b>{e(label)}</li>" for n, label in stats)
            + "</ul>\n"
            f'<nav class="toc" aria-label="Contents">{toc}<a href="#warnings">warnings</a>'
            "</nav>\n</header>"
        )

    # --- per language --------------------------------------------------------------------

    def language(self, v: LanguageView) -> str:
        parts = [
            f'<section class="language" id="lang-{e(slug(v.tag))}" '
            f'aria-labelledby="h-{e(slug(v.tag))}">'
        ]
        parts.append(f'<h2 id="h-{e(slug(v.tag))}">{e(v.name)} <code>{e(v.tag)}</code></h2>')
        parts.append(self.icon_block(v))
        parts.append(self.thumbnails_block(v))
        if v.dropped:
            parts.append(self.dropped_block(v))
        parts.append("</section>")
        return "\n".join(parts)

    def icon_block(self, v: LanguageView) -> str:
        rec = v.icon
        path = rec["path"]
        what = f"{v.name} icon"
        sizes = "".join(
            f'<img class="phone" src="{src(path)}" width="{s}" height="{s}" alt="{e(what)} at '
            f'{s} px">'
            for s in review.SMALL_SIZES
        )
        size_fig = (
            f'<figure><div class="sizes">{sizes}</div>'
            f"<figcaption>At list sizes: {', '.join(f'{s}' for s in review.SMALL_SIZES)} "
            "px</figcaption></figure>"
        )
        if v.icon_inherited_from is not None:
            owner = v.icon_inherited_from
            return (
                "<h3>Icon</h3>"
                '<div class="inherit"><p>No icon of its own: the portal shows '
                f"<b>{e(owner)}</b>'s "
                f'<a href="#{e(self.asset_id(path))}"><code>{e(path)}</code></a>. Nothing to '
                "upload here.</p>"
                f'<div class="row views">{size_fig}</div></div>'
            )
        masks = []
        for shape, label in (("circle", "circle"), ("rounded", "rounded square (22% corners)")):
            masks.append(
                f'<figure class="maskfig"><div class="mask {shape}"><img src="{src(path)}" '
                'width="192" height="192" '
                f'alt="{e(what)} under a {e(label)} mask"></div>'
                f"<figcaption>Under a {e(label)} mask</figcaption></figure>"
            )
            masks.append(
                f'<figure class="maskfig"><div class="cut {shape}"><img src="{src(path)}" '
                'width="192" height="192" '
                f'alt="{e(what)} with the part a {e(label)} mask cuts away tinted red"></div>'
                f"<figcaption>What the {e(shape)} mask cuts (red)</figcaption></figure>"
            )
        w, h = int(rec.get("width", 0)), int(rec.get("height", 0))
        full = (
            f'<figure class="full"><a href="{src(path)}"><img class="checker" src="{src(path)}" '
            f'width="{w}" height="{h}" '
            f'alt="{e(what)} at full size, {w} by {h} px"></a>'
            f"<figcaption>Full size: {w}&times;{h} px</figcaption></figure>"
        )
        return (
            "<h3>Icon</h3>"
            '<div class="row '
            f'views">{size_fig}{self.asset_card(rec, role="icon", alt=what, show_image=False)}'
            "</div>"
            "<h4>Safe area: what round and rounded-square masks keep</h4>"
            f'<div class="row views">{"".join(masks)}</div>'
            f"{full}"
        )

    def asset_card(
        self,
        rec: Mapping[str, Any],
        *,
        role: str,
        alt: str,
        slot: int | None = None,
        show_image: bool = True,
    ) -> str:
        path = rec["path"]
        source = rec["source"]["path"]
        image = ""
        if show_image:
            image = (
                f'<a href="{src(path)}"><img class="checker" src="{src(path)}" '
                f'width="{int(rec["width"])}" '
                f'height="{int(rec["height"])}" alt="{e(alt)}"></a>'
            )
        nbytes = int(rec["bytes"])
        cap = review.byte_cap(self.m, role)
        share = f"; {nbytes / cap:.1%} of the {cap:,}-byte cap" if cap else ""
        quality = ", ".join(f"{k} {v}" for k, v in sorted(rec.get("quality", {}).items())) or "n/a"
        enc = "".join(
            f"<li><code>{e(k)}={e(v)}</code></li>"
            for k, v in review.describe_encoder(rec.get("encoder", {}))
        )
        badge = f'<span class="slot" title="slot {slot}">{slot}</span>' if slot is not None else ""
        cls = "card" if role != "icon" else "card icon"
        return (
            f'<figure class="{cls}" id="{e(self.asset_id(path))}">{image}<figcaption>'
            f'<p class="title">{badge}<code>{e(path)}</code></p>'
            '<dl class="facts">'
            f"<dt>Bytes</dt><dd>{e(fmt_bytes(nbytes))}{e(share)}</dd>"
            f"<dt>Format</dt><dd>{e(rec['format'])}, "
            f"{int(rec['width'])}&times;{int(rec['height'])} px</dd>"
            f"<dt>Quality</dt><dd>{e(quality)}</dd>"
            f'<dt>Encoder</dt><dd><ul class="enc">{enc}</ul></dd>'
            f"<dt>Source</dt><dd><code>{e(source)}</code></dd>"
            "</dl>"
            f"{self.flags(source)}</figcaption></figure>"
        )

    def thumbnails_block(self, v: LanguageView) -> str:
        limit = self.m.get("platform", {}).get("rules", {}).get("thumbnail", {}).get("max_count")
        count = f"{len(v.thumbnails)} of at most {limit}" if limit else str(len(v.thumbnails))
        if v.inherited_from is not None:
            owner = v.inherited_from
            links = "".join(
                f'<figure><a href="#{e(self.asset_id(rec["path"]))}"><img class="checker" '
                f'src="{src(rec["path"])}" '
                f'width="120" height="120" alt="{e(owner)} thumbnail {i}, shown for {e(v.tag)}">'
                "</a>"
                f"<figcaption>slot {i}</figcaption></figure>"
                for i, rec in enumerate(v.thumbnails, 1)
            )
            return (
                f"<h3>Thumbnails ({e(count)}, inherited)</h3>"
                '<div class="inherit"><p>No thumbnails of its own: the portal shows '
                f"<b>{e(owner)}</b>'s, "
                f"in this order. Nothing to upload here.</p>"
                f'<div class="row thumbs">{links}</div></div>'
            )
        if not v.thumbnails:
            return f'<h3>Thumbnails</h3><p class="note">None: {e(v.tag)} has no thumbnails.</p>'
        cards = "".join(
            self.asset_card(
                rec,
                role="thumbnail",
                slot=i,
                alt=f"{v.name} thumbnail {i} of {len(v.thumbnails)}, "
                f"made from {rec['source']['path']}",
            )
            for i, rec in enumerate(v.thumbnails, 1)
        )
        return (
            f"<h3>Thumbnails ({e(count)}, in slot order)</h3>"
            '<p class="note">The portal shows one of these at random when a player shares the '
            "game.</p>"
            f'<div class="row cards">{cards}</div>'
        )

    # --- dropped candidates --------------------------------------------------------------

    def preview(self, rel: str) -> str | None:
        """A data: URI of a small preview of a project source, or None."""
        if self.project is None:
            return None
        if rel in self._preview_cache:
            return self._preview_cache[rel]
        uri = None
        if self.previews_left > 0:
            data = review.cached_preview_jpeg(self.project, rel, cache_root=getattr(self, "cache_root", None))
            if data is not None:
                self.previews_left -= 1
                uri = "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
        self._preview_cache[rel] = uri
        return uri

    def source_figure(self, rel: str, *, tag: str, tag_class: str, caption: str) -> str:
        uri = self.preview(rel)
        if uri is not None:
            pic = f'<img src="{uri}" alt="{e(tag)} candidate {e(rel)} (source preview)">'
        else:
            why = (
                "source preview not available"
                if self.project is not None
                else "no preview: regenerate with --project"
            )
            label = f"{tag} candidate {rel}: {why}"
            pic = f'<div class="placeholder" role="img" aria-label="{e(label)}">{e(why)}</div>'
        return (
            f'<figure>{pic}<figcaption><span class="tag {tag_class}">{e(tag)}</span><br>'
            f"<code>{e(rel)}</code>{caption}</figcaption></figure>"
        )

    def kept_figure(self, v: LanguageView, rel: str) -> str:
        hit = v.slot_of(rel)
        if hit is None:  # the keeper itself was left out later (over the limit)
            return self.source_figure(rel, tag="kept source", tag_class="kept", caption="")
        slot, rec = hit
        return (
            f'<figure><a href="#{e(self.asset_id(rec["path"]))}"><img class="checker" '
            f'src="{src(rec["path"])}" '
            f'width="160" height="160" alt="Kept thumbnail {slot} of {e(v.name)}, made from '
            f'{e(rel)}"></a>'
            f'<figcaption><span class="tag kept">kept as slot {slot}</span><br>'
            f"<code>{e(rel)}</code></figcaption></figure>"
        )

    def distance_table(self, d: Mapping[str, Any]) -> str:
        dedupe = self.m.get("preset", {}).get("settings", {}).get("dedupe", {})
        dists: Mapping[str, Any] = d.get("distances") or {"phash": d.get("distance")}
        rows = []
        for name in sorted(dists):
            limit = dedupe.get(f"{name}_threshold")
            value = dists[name]
            hit = isinstance(limit, int) and isinstance(value, int) and value <= limit
            rows.append(
                f'<tr><th scope="row">{e(name)}</th><td '
                f'class="num{" hit" if hit else ""}">{e(value)}</td>'
                f'<td class="num">{e(f"≤ {limit}") if limit is not None else "&ndash;"}</td></tr>'
            )
        return (
            '<table class="distances"><caption class="note">Hash distances: 0 = same picture; '
            "red = at or under the duplicate threshold</caption>"
            '<tr><th scope="col">hash</th><th scope="col">distance</th><th scope="col">duplicate '
            "at</th></tr>" + "".join(rows) + "</table>"
        )

    def dropped_block(self, v: LanguageView) -> str:
        items = []
        for d in v.dropped:
            rel = str(d["source"])
            reason = d.get("reason", "?")
            body = [self.source_figure(rel, tag="dropped", tag_class="gone", caption="")]
            if reason == "duplicate" and d.get("duplicate_of"):
                body.append('<span class="vs">duplicates &rarr;</span>')
                body.append(self.kept_figure(v, str(d["duplicate_of"])))
                body.append(
                    f'<div class="why"><p>Near-duplicate of <code>{e(d["duplicate_of"])}</code>; '
                    "the larger source (or the first in order) is "
                    f"kept.</p>{self.distance_table(d)}</div>"
                )
            else:
                text = {
                    "over_limit": "Over the per-language limit",
                    "unreadable": "Unreadable",
                }.get(str(reason), str(reason))
                msg = f": {e(d['message'])}" if d.get("message") else ""
                body.append(f'<div class="why"><p><b>{e(text)}</b>{msg}</p>{self.flags(rel)}</div>')
            items.append(f'<div class="drop" id="{e(self.dropped_id(d))}">{"".join(body)}</div>')
        heading = f"<h3>Dropped candidates ({len(v.dropped)})</h3>"
        return f'{heading}<div class="dropped">{"".join(items)}</div>'

    # --- warnings ------------------------------------------------------------------------

    def warnings_section(self) -> str:
        if not self.warnings:
            rows = '<p class="note">No warnings.</p>'
        else:
            trs = []
            for i, w in enumerate(self.warnings, 1):
                source = str(w.get("source", ""))
                anchor = self.anchor_of.get(source)
                where = (
                    f'<a href="#{e(anchor)}"><code>{e(source)}</code></a>'
                    if anchor
                    else f"<code>{e(source)}</code>"
                )
                trs.append(
                    f'<tr id="warning-{i}"><td class="num">{i}</td><td>'
                    f"<code>{e(w.get('code', ''))}</code></td>"
                    f"<td>{where}</td><td>{e(w.get('message', ''))}</td></tr>"
                )
            rows = (
                '<table class="warnings"><tr><th scope="col">#</th><th scope="col">code</th>'
                '<th scope="col">asset or source</th><th scope="col">message</th></tr>'
                + "".join(trs)
                + "</table>"
            )
        heading = f"<h2>Warnings ({len(self.warnings)})</h2>"
        return f'<section class="warnings" id="warnings">{heading}{rows}</section>'


def image_paths(page: bytes) -> list[str]:
    """Every `src` of an <img> in a rendered page, in order (for tests and the contact sheet)."""
    return re.findall(r'<img[^>]*\ssrc="([^"]*)"', page.decode("utf-8"))


def bundle_files(manifest: Mapping[str, Any]) -> Iterable[str]:
    """The image files a page refers to: icon(s) and every kept thumbnail."""
    seen: dict[str, None] = {manifest["icon"]["path"]: None}
    for v in review.language_views(manifest):
        seen[v.icon["path"]] = None
        for rec in v.thumbnails:
            seen[rec["path"]] = None
    return list(seen)
