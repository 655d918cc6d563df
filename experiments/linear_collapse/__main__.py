"""python -m experiments.linear_collapse (claims A1, C1)."""

from experiments.kit import cli

from . import EXPERIMENT

if __name__ == "__main__":
    cli.main(EXPERIMENT)
