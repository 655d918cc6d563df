"""python -m experiments.derivatives (claims B1-B12, A2, C2)."""

from experiments.kit import cli

from . import EXPERIMENT

if __name__ == "__main__":
    cli.main(EXPERIMENT)
