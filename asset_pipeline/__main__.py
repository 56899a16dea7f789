"""`python -m asset_pipeline`."""

from asset_pipeline.cli import main

if __name__ == "__main__":
    main()
