"""manifest.json: deterministic JSON (sorted keys, no timestamps, no absolute paths), and its schema."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from . import __version__

SCHEMA_VERSION = 1


def dumps(data: Any) -> bytes:
    """The one JSON writer of the bundle: same data, same bytes."""
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def generator() -> dict[str, str]:
    return {"name": "asset-pipeline", "version": __version__}


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    text = resources.files("asset_pipeline").joinpath("schema/manifest.schema.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def validate(data: Any) -> list[str]:
    """Schema problems, one line each (empty when valid)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    out = []
    for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        where = "/".join(map(str, err.absolute_path)) or "(root)"
        out.append(f"{where}: {err.message}")
    return out
