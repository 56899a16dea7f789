"""`python -m asset_pipeline`."""

from asset_pipeline.cli import run

if __name__ == "__main__":
    run()
