"""Precision and recall of asset-pipeline's dedupe on the project's labelled set, with the sweep.

The set (benchmarks/dedupe_set.py, generated on first use into benchmarks/.corpus/dedupe/)
holds originals, their duplicates (re-encodes, downscales, 2-5 % crops, +-10 % brightness and
contrast, a small watermark) and variants that are NOT duplicates (hue shifts, red/blue swap,
greyscale, night tint, a recoloured centre, mirrors), plus flat, two-tone and transparent art.
Every file is read the way `build` reads a candidate (load_image at the probe size) and
fingerprinted by the shipped code; decisions come from asset_pipeline.dedupe.decide.

Labelled pairs: every pair of files, except pairs of two duplicates of one original (they are
duplicates of each other only through the original, which the clustering check covers).

Reported:
* pair precision / recall for the preset's thresholds, per split ("tune" families chose the
  defaults; "test" families did not), per kind of art, per transform and per variant;
* the same for two baselines measured in the same run: plain 64-bit pHash <= 10 on the file as
  Pillow opens it (imagededup's default; alpha ignored), and the rule main had before this
  change (pHash <= 10, dHash <= 14, colorhash <= 6 over grey, flat art by mean colour);
* a build-like clustering of the whole set as one folder: is every dropped file a true
  duplicate of the file it was dropped for, and is every duplicate dropped;
* the threshold sweep on the tune split and the pick (no false merge on the tune split, then
  the highest recall, then the tightest thresholds): the preset's defaults.

    .venv/bin/python benchmarks/dedupe_eval.py            # about 2-4 minutes on 2 busy cores
    .venv/bin/python benchmarks/dedupe_eval.py --json out.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import imagehash
import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # run as a script: make the packages importable
    sys.path.insert(0, str(HERE.parent))

from asset_pipeline.config import DedupeSettings, load_preset  # noqa: E402
from asset_pipeline.dedupe import (  # noqa: E402
    composite,
    decide,
    distance_matrices,
    find_duplicate_groups,
    fingerprint,
)
from asset_pipeline.load import load_image  # noqa: E402
from asset_pipeline.pipeline import PROBE_SIDE  # noqa: E402
from asset_pipeline.records import Fingerprint, SourceFile  # noqa: E402
from benchmarks.dedupe_set import COLOUR_VARIANTS, DEFAULT_DIR, Item, load_set  # noqa: E402

STRUCTURE_SWEEP = (20, 30, 40, 50, 60, 70, 80, 100, 120)
COLOUR_SWEEP = (6, 8, 10, 12, 14, 16, 20)
FLAT_SWEEP = (4, 8, 12, 16, 24)


@dataclasses.dataclass(frozen=True)
class Probed:
    fingerprints: list[Fingerprint]
    pixels: list[int]
    naive_phash: np.ndarray  # (n, 64) bits: pHash of the file as Pillow opens it
    old: dict[str, Any]  # the former rule's hashes


def _bits(hexes: list[str]) -> np.ndarray:
    return np.array([[int(b) for b in bin(int(h, 16))[2:].zfill(len(h) * 4)] for h in hexes], np.int32)


def _hamming(bits: np.ndarray) -> np.ndarray:
    ones = bits.sum(1)
    return ones[:, None] + ones[None, :] - 2 * bits @ bits.T


def probe(items: list[Item], folder: Path) -> Probed:
    fps, pixels, naive, ph, dh, ch, flat, mean = [], [], [], [], [], [], [], []
    for it in items:
        path = folder / it.file
        src = SourceFile(path=path, rel=it.file, sha256="0" * 64, size=path.stat().st_size)
        loaded = load_image(src, shrink_to=("short", PROBE_SIDE))
        fps.append(fingerprint(loaded.image))
        pixels.append(loaded.width * loaded.height)
        with Image.open(path) as raw:
            naive.append(str(imagehash.phash(raw)))
        rgb = composite(loaded.image)
        ph.append(str(imagehash.phash(rgb)))
        dh.append(str(imagehash.dhash(rgb)))
        ch.append(str(imagehash.colorhash(rgb, binbits=3)))
        small = rgb.resize((64, 64), Image.Resampling.BOX)
        flat.append(float(np.asarray(small.convert("L"), np.float32).std()) < 4.0)
        mean.append(np.asarray(small, np.float32).reshape(-1, 3).mean(0))
    old = {"phash": _hamming(_bits(ph)), "dhash": _hamming(_bits(dh)), "color": _hamming(_bits(ch)),
           "flat": np.array(flat), "mean": np.array(mean)}
    return Probed(fingerprints=fps, pixels=pixels, naive_phash=_bits(naive), old=old)


def old_rule(old: dict[str, Any]) -> np.ndarray:
    """main's rule before this change, reimplemented on the same probes."""
    flat = old["flat"]
    mean = np.linalg.norm(old["mean"][:, None] - old["mean"][None, :], axis=-1)
    struct = (old["phash"] <= 10) & (old["dhash"] <= 14) & (old["color"] <= 6)
    flat_rule = flat[:, None] & flat[None, :] & (mean <= 12) & (old["color"] <= 6)
    return np.where(flat[:, None] | flat[None, :], flat_rule, struct)


@dataclasses.dataclass(frozen=True)
class Pairs:
    i: np.ndarray
    j: np.ndarray
    same: np.ndarray  # the label: same art


def labelled_pairs(items: list[Item]) -> Pairs:
    n = len(items)
    art = np.array([it.art for it in items])
    original = np.array([it.kind == "original" for it in items])
    i, j = np.triu_indices(n, 1)
    same = art[i] == art[j]
    keep = ~(same & ~original[i] & ~original[j])
    return Pairs(i=i[keep], j=j[keep], same=same[keep])


def score(dup: np.ndarray, pairs: Pairs, mask: np.ndarray | None = None) -> dict[str, float]:
    d = dup[pairs.i, pairs.j]
    y = pairs.same
    if mask is not None:
        d, y = d[mask], y[mask]
    tp, fp, fn = int((d & y).sum()), int((d & ~y).sum()), int((~d & y).sum())
    return {"precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / (tp + fn) if tp + fn else 1.0,
            "tp": tp, "fp": fp, "fn": fn, "pairs": len(d)}


def cluster_check(items: list[Item], probed: Probed, settings: DedupeSettings) -> dict[str, Any]:
    """The whole set as one folder, clustered as `build` and `dedupe` do."""
    groups = find_duplicate_groups(probed.fingerprints, pixels=probed.pixels, settings=settings)
    wrong, dropped = [], 0
    for g in groups:
        for d in g.duplicates:
            dropped += 1
            if items[d].art != items[g.keeper].art:
                wrong.append(f"{items[d].file} dropped for {items[g.keeper].file}")
    per_art = Counter(it.art for it in items)
    should = sum(c - 1 for c in per_art.values())
    right = dropped - len(wrong)
    colour_merged = [w for w in wrong if any(f"/{k}." in w for k in COLOUR_VARIANTS)]
    return {"dropped": dropped, "wrong_drops": wrong, "should_drop": should,
            "drop_precision": right / dropped if dropped else 1.0, "drop_recall": right / should if should else 1.0,
            "colour_variants_merged": colour_merged}


def sweep(dm: Any, pairs: Pairs, mask: np.ndarray) -> list[dict[str, Any]]:
    rows = []
    base = DedupeSettings()
    for s in STRUCTURE_SWEEP:
        for c in COLOUR_SWEEP:
            st = dataclasses.replace(base, structure_threshold=s, colour_threshold=c)
            rows.append({"structure": s, "colour": c, **score(decide(dm, st), pairs, mask)})
    return rows


def flat_sweep(dm: Any, pairs: Pairs, mask: np.ndarray, settings: DedupeSettings) -> list[dict[str, Any]]:
    return [{"flat_colour": f, **score(decide(dm, dataclasses.replace(settings, flat_colour_threshold=f)), pairs, mask)}
            for f in FLAT_SWEEP]


def _pct(x: float) -> str:
    return f"{x:.4f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write every number to this file")
    parser.add_argument("--preset", default="balanced", help="preset whose [dedupe] thresholds are evaluated")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    items = load_set(DEFAULT_DIR)
    t1 = time.perf_counter()
    probed = probe(items, DEFAULT_DIR)
    t2 = time.perf_counter()
    settings = load_preset(args.preset).dedupe
    pairs = labelled_pairs(items)
    dm = distance_matrices(probed.fingerprints, colour_within=max(STRUCTURE_SWEEP))
    dup = decide(dm, settings)
    dup = dup | dup.T
    t3 = time.perf_counter()

    split = np.array([it.split for it in items])
    group = np.array([it.group for it in items])
    kind = np.array([it.kind for it in items])
    family = np.array([it.family for it in items])
    tune = split[pairs.i] == "tune"
    both_tune = tune & (split[pairs.j] == "tune")
    both_test = (split[pairs.i] == "test") & (split[pairs.j] == "test")

    naive = _hamming(probed.naive_phash) <= 10
    old = old_rule(probed.old)
    result: dict[str, Any] = {
        "set": {"files": len(items), "families": len(set(family)), "pairs": len(pairs.same),
                "duplicate_pairs": int(pairs.same.sum())},
        "settings": dataclasses.asdict(settings),
        "ours": {"all": score(dup, pairs), "tune": score(dup, pairs, both_tune), "test": score(dup, pairs, both_test)},
        "baseline_phash10": score(naive, pairs),
        "baseline_former_rule": score(old, pairs),
        "timing_s": {"generate_or_load_set": round(t1 - t0, 1), "decode_and_fingerprint": round(t2 - t1, 1),
                     "all_pair_distances": round(t3 - t2, 1)},
    }
    by_group = {g: score(dup, pairs, (group[pairs.i] == g) | (group[pairs.j] == g)) for g in sorted(set(group))}
    result["by_group"] = by_group
    same_family = family[pairs.i] == family[pairs.j]
    per_transform: dict[str, dict[str, float]] = {}
    for k in sorted(set(kind) - {"original"}):
        m = same_family & (((kind[pairs.i] == "original") & (kind[pairs.j] == k)) | ((kind[pairs.j] == "original") & (kind[pairs.i] == k)))
        per_transform[k] = score(dup, pairs, m)
    result["original_vs_each_kind"] = per_transform
    colour_pairs = same_family & (np.isin(kind[pairs.i], list(COLOUR_VARIANTS)) | np.isin(kind[pairs.j], list(COLOUR_VARIANTS)))
    result["colour_variant_pairs"] = score(dup, pairs, colour_pairs)
    result["clustering"] = cluster_check(items, probed, settings)
    rows = sweep(dm, pairs, both_tune)
    # the defaults: no false merge on the tune split, then the most recall, then the tightest thresholds
    good = [r for r in rows if r["fp"] == 0]
    pick = max(good, key=lambda r: (r["recall"], -r["structure"], -r["colour"])) if good else None
    result["sweep_tune"] = rows
    result["pick"] = pick
    result["flat_sweep_tune"] = flat_sweep(dm, pairs, both_tune, settings)

    out = print
    out(f"# Dedupe evaluation ({len(items)} files in {len(set(family))} families, {len(pairs.same):,} labelled pairs, "
        f"{int(pairs.same.sum())} of them duplicates)\n")
    out(f"Thresholds of preset {args.preset!r}: {dataclasses.asdict(settings)}\n")
    out("| rule | pairs | precision | recall | false merges | missed |\n| --- | --- | --- | --- | --- | --- |")
    for name, sc in (("ours", result["ours"]["all"]), ("ours, tune split", result["ours"]["tune"]),
                     ("ours, test split (held out)", result["ours"]["test"]),
                     ("baseline: pHash <= 10, no alpha", result["baseline_phash10"]),
                     ("baseline: former rule on main", result["baseline_former_rule"])):
        out(f"| {name} | {sc['pairs']:,} | {_pct(sc['precision'])} | {_pct(sc['recall'])} | {sc['fp']} | {sc['fn']} |")
    out("\n## By kind of art\n\n| art | precision | recall | false merges | missed |\n| --- | --- | --- | --- | --- |")
    for g, sc in by_group.items():
        out(f"| {g} | {_pct(sc['precision'])} | {_pct(sc['recall'])} | {sc['fp']} | {sc['fn']} |")
    out("\n## Original vs each transform (duplicates: recall; variants: false merges)\n")
    out("| kind | pairs | merged | expected |\n| --- | --- | --- | --- |")
    for k, sc in per_transform.items():
        dupe_kind = sc["tp"] + sc["fn"] > 0
        out(f"| {k} | {sc['pairs']} | {sc['tp'] if dupe_kind else sc['fp']} | {'duplicate' if dupe_kind else 'not a duplicate'} |")
    cv = result["colour_variant_pairs"]
    out(f"\nColour-variant pairs (a colour variant against any file of its family): {cv['fp']} merged.")
    cl = result["clustering"]
    out(f"\n## The whole set as one folder (build-like greedy clustering)\n\n"
        f"dropped {cl['dropped']} of {cl['should_drop']} that should go; drop precision {_pct(cl['drop_precision'])}, "
        f"drop recall {_pct(cl['drop_recall'])}; colour variants dropped as duplicates: {len(cl['colour_variants_merged'])}")
    for w in cl["wrong_drops"][:20]:
        out(f"- wrong: {w}")
    out("\n## Sweep on the tune split (structure per mille x colour)\n")
    out("| structure \\ colour | " + " | ".join(str(c) for c in COLOUR_SWEEP) + " |")
    out("| --- | " + " | ".join("---" for _ in COLOUR_SWEEP) + " |")
    for s in STRUCTURE_SWEEP:
        cells = [r for r in rows if r["structure"] == s]
        out(f"| {s} | " + " | ".join(f"P {r['precision']:.3f} R {r['recall']:.3f}" for r in cells) + " |")
    out("\nFlat-colour threshold (tune split): " + ", ".join(
        f"{r['flat_colour']}: P {r['precision']:.3f} R {r['recall']:.3f}" for r in result["flat_sweep_tune"]))
    if pick:
        out(f"\nPick (no false merge on the tune split, then the most recall, then the tightest): structure {pick['structure']}, colour "
            f"{pick['colour']} (P {pick['precision']:.4f}, R {pick['recall']:.4f}).")
    out(f"\nTime: set {result['timing_s']['generate_or_load_set']} s, decode + fingerprint "
        f"{result['timing_s']['decode_and_fingerprint']} s for {len(items)} files, all-pair distances "
        f"{result['timing_s']['all_pair_distances']} s (2 shared cores; other jobs were running).")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
