"""python -m experiments.convergence (claims H1, H3, H4, F5, C4, C5)."""

from experiments.kit import cli

from . import EXPERIMENT

if __name__ == "__main__":
    cli.main(EXPERIMENT)
