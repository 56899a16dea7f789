"""The exception tree of asset-pipeline.

Our exception hierarchy::

    AssetPipelineError            base; `exit_code` says how the CLI ends
    ├── ConfigError               bad preset, profile, assets.toml, flag or path (exit 2)
    ├── AssetError                one source or output fails (exit 1); carries `source`
    │   ├── UnreadableImage       not an image we can decode (zero bytes, truncated, SVG...)
    │   ├── ImageTooLarge         over the configured pixel limit (decompression bomb)
    │   ├── SizeCapUnreachable    no allowed encoding fits the byte cap
    │   └── EncodeError           the encoder itself failed
    ├── BundleError               a bundle fails the rules (check) or is stale (build --check) (exit 1)
    ├── OutputError               OUT cannot be written, or is locked by another build (exit 1)
    └── BuildFailed               a build stopped because sources failed; lists them (exit 1)
"""

from __future__ import annotations

from pathlib import Path


class AssetPipelineError(Exception):
    """Base of every error this project raises on purpose."""

    exit_code = 1


class ConfigError(AssetPipelineError):
    """A preset, profile, assets.toml, flag or path is wrong: a usage error."""

    exit_code = 2


class AssetError(AssetPipelineError):
    """One asset (a source file or an output) fails; the message names the file."""

    reason_code = "asset_error"

    def __init__(self, source: str | Path, reason: str) -> None:
        self.source = str(source)
        self.reason = reason
        super().__init__(f"{self.source}: {reason}")


class UnreadableImage(AssetError):
    """The file is not an image we can decode."""

    reason_code = "unreadable"


class ImageTooLarge(AssetError):
    """The image declares more pixels than the configured limit allows."""

    reason_code = "too_large"


class SizeCapUnreachable(AssetError):
    """No allowed format and quality brings the file under the byte cap."""

    reason_code = "over_cap"


class EncodeError(AssetError):
    """The encoder failed on an image it was given."""

    reason_code = "encode_failed"


class BundleError(AssetPipelineError):
    """A bundle (or loose file) breaks a rule; `problems` lists one line each."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems or []
        super().__init__(message)


class OutputError(AssetPipelineError):
    """The output folder cannot be written or is held by another build."""


class BuildFailed(AssetPipelineError):
    """Sources failed, so no bundle was written; `errors` holds each one."""

    def __init__(self, errors: list[AssetError]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} source(s) failed; the bundle was not written")
