"""python -m experiments.initialization (claims G1, G2)."""

from experiments.kit import cli

from . import EXPERIMENT

if __name__ == "__main__":
    cli.main(EXPERIMENT)
