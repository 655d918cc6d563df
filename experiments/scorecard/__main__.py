"""python -m experiments.scorecard --config.activation=module:function[:derivative] (issue 18): prints the card."""

from experiments.kit import cli
from experiments.kit.results import markdown_table

from . import EXPERIMENT

if __name__ == "__main__":
    result = cli.main(EXPERIMENT)
    print(markdown_table(result.tables["card"]), end="")
