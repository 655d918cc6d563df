"""Config of experiments.cost (claim H2: exponentials are expensive; do they cost training time?).

Run:      python -m experiments.cost --config configs/cost.py:smoke
Runtime:  default 25 s on 2 idle CPU cores (committed run: compile 18 s in 170 compiles, execute 5 s,
          113.8 GFLOP/s against a measured 425 GFLOP/s matmul peak); smoke presets run in the test suite at XLA opt level 0 (all nine smoke runs ~2 min together).
Expected: alone, the exponential activations (sigmoid, tanh, ELU, Mish, ...) cost several times
          ReLU's time per element (one transcendental vs none, XLA cost analysis); in a whole
          training step of a matmul-bound MLP the difference shrinks to a few percent, more in a
          CNN whose activation maps are large -> H2 likely "qualified".

Timing discipline: the activations are measured round-robin (one shuffled round per repetition)
so the noise of a shared machine hits all alike; a round keeps the fastest of a few calls (other
processes only add time); ratios are paired within a round; medians and
the inter-quartile range over ``reps`` rounds are reported.
"""

import acts
from experiments.kit import config as kc


def get_config(preset: str | None = None):
    preset = kc.preset_name(preset)
    fields = {
        "preset": preset,
        "seed": 0,
        # The activation every ratio and overhead is relative to (the tables' *_relu columns; H2's "ReLU needs
        # one comparison"); it must be in activations and step_activations.
        "reference": "relu",
        # Part 1: every registered elementwise activation alone (+ prelu and rrelu's test-time form).
        "activations": tuple(acts.names(kind="elementwise")) + ("prelu", "rrelu"),
        "n_elements": 1 << 20,  # float32 elements per call (4 MiB)
        "reps": 7,  # timing rounds (round-robin over activations)
        "calls_per_rep": 10,  # calls per round; the fastest counts
        # Part 2: share of a whole training step (forward, backward, SGD update) of real models.
        "step_activations": (
            "identity", "relu", "leaky_relu", "elu", "selu", "gelu", "swish", "mish", "softplus", "sigmoid", "tanh",
        ),
        "dataset": "fashion_mnist",
        "n_train": 4096,
        "batch_size": 128,  # MLP batch
        "cnn_batch_size": 32,  # XLA's CPU convolution gradients slow down super-linearly in batch (128: ~10x of 32)
        "steps_per_call": 1,  # training steps per timed call (lax.scan)
        "step_calls_per_rep": {"mlp": 10, "cnn": 3},  # calls per round; the fastest counts
        "mlp_widths": (512, 512, 512),
        "cnn_channels": (16, 32),
        "cnn_dense_widths": (64,),
        "criteria": {
            "h2": {
                # "expensive": the activation alone, forward+backward, median time ratio to relu.
                "expensive": ("sigmoid", "tanh"),
                # margins against noise: the whole inter-quartile range over rounds must pass a threshold
                "ratio_expensive": 1.5,  # lower quartile >= this: expensive alone
                "ratio_cheap": 1.2,  # upper quartile <= this: not expensive alone (Derczynski's 1.03-1.18: cheap)
                # "adds a lot of training time": whole-step time with the activation / with relu - 1,
                # per round, over these activations and both models.
                "exponential": ("sigmoid", "tanh", "elu", "mish"),
                "step_negligible": 0.05,  # every upper quartile <= this: negligible in a whole step
                "step_large": 0.10,  # some lower quartile >= this: a lot of training time
            },
        },
        "published": {
            "elu_imagenet_slowdown": 0.05,  # Clevert et al. 2016: ELU nets ran 5% slower than ReLU's
            "mish_pytorch_forward": 3.2,  # Mish from PyTorch ops vs ReLU on a GPU, forward
            "mish_pytorch_backward": 4.0,  # ... backward
            "derczynski_cpu": {"sigmoid": 1.03, "tanh": 1.05, "elu": 1.04, "gelu": 1.18},  # CPU, activation only, vs ReLU
        },
    }
    overrides = {
        "smoke": {
            "activations": ("identity", "relu", "leaky_relu", "sigmoid", "tanh", "elu", "gelu", "softplus", "mish"),
            "n_elements": 1 << 18,
            "reps": 5,
            "calls_per_rep": 3,
            "step_activations": ("identity", "relu", "sigmoid", "tanh", "elu", "mish"),
            "n_train": 512,
            "batch_size": 32,
            "cnn_batch_size": 16,
            "steps_per_call": 1,
            "step_calls_per_rep.mlp": 3,
            "step_calls_per_rep.cnn": 2,
            "mlp_widths": (128, 128),
            "cnn_channels": (8, 16),
            "cnn_dense_widths": (32,),
        },
    }.get(preset, {})
    return kc.build(fields, overrides)
