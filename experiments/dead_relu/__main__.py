"""python -m experiments.dead_relu (claims F1, F2, F3, F4, G3)."""

from experiments.kit import cli

from . import EXPERIMENT

if __name__ == "__main__":
    cli.main(EXPERIMENT)
