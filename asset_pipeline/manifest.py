"""manifest.json: deterministic JSON (sorted keys, no timestamps, no absolute paths), and its schema."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
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


def read(bundle: Path) -> dict[str, Any]:
    """A bundle's manifest.json, valid against the schema; one-line errors naming the file."""
    from .errors import BundleError, ConfigError

    if not bundle.is_dir():
        msg = f"{bundle}: bundle folder not found"
        raise ConfigError(msg)
    path = bundle / "manifest.json"
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        msg = f"{path}: missing (not a bundle?)"
        raise BundleError(msg) from None
    except (OSError, ValueError) as exc:
        msg = f"{path}: not valid JSON ({exc})"
        raise BundleError(msg) from None
    problems = validate(data)
    if problems:
        msg = f"{path}: does not match the manifest schema ({problems[0]})"
        raise BundleError(msg, [f"manifest.json: {p}" for p in problems])
    return data  # type: ignore[no-any-return]
