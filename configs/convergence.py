"""Config of experiments.convergence (claims H1, H3, H4, F5, C4, C5).

Run:      python -m experiments.convergence --config configs/convergence.py:smoke
Runtime:  default 107 s on 2 idle CPU cores (committed run: compile 67 s in 47 compiles, execute 35 s,
          39.4 GFLOP/s against a measured 425 GFLOP/s matmul peak); smoke presets run in the test suite at XLA opt level 0 (all nine smoke runs ~2 min together).
Paper:    larger (more steps, wider nets, mnist1d, Fashion-MNIST 5k and 1k, every activation on every data
          set, a CNN on every data set); not run here.
Expected: sigmoid needs ~2x ReLU's steps to the threshold; tanh is FASTER than ReLU here (0.56-0.75x);
          PReLU/RReLU/Leaky/ELU/Swish are within about a point of ReLU's test accuracy; bounded
          activations tolerate larger learning rates.

One *population* = one structural variant (model, data set, activation) trained for every seed x
learning rate (x weight scale) in one jit; every claim reads the same populations. Each
activation's learning rate is tuned per (model, data set) from ``learning_rates`` as the fastest to reach
the training-error threshold among the learning rates where no seed diverged (Krizhevsky et al.
2012's protocol: no regularisation; here SGD with momentum 0.9). Fashion-MNIST is SUBSAMPLED
(``fashion_n_train`` training images) in the default preset to fit the CPU budget.
"""

from experiments.kit import config as kc


def get_config(preset: str | None = None):
    preset = kc.preset_name(preset)
    fields = {
        "preset": preset,
        "seeds": 10,
        "optimizer": "momentum",
        "momentum": 0.9,
        "batch_size": 32,
        "steps": 300,
        "log_every": 20,
        "n_eval": 512,
        "n_test": 1000,
        "init": "xavier_normal",
        "learning_rates": (0.01, 0.03, 0.1, 0.3, 1.0),
        # the activation every comparison is against (H1, F5, H3, H4: steps and accuracy relative to it)
        "baseline": "relu",
        "mlp_widths": (32, 32, 32),
        "fashion_n_train": 2000,
        # the main grid: every activation x every data set, MLP (H1, F5, H3, C5)
        "grid": {
            "datasets": ("digits", "fashion_mnist"),
            "activations": ("relu", "tanh", "sigmoid", "leaky_relu", "elu", "prelu"),
        },
        # further activations, MLP only (F5, C5): with the grid, every rival F5 names (maxout: k = 2)
        "extra": {
            "datasets": ("digits", "fashion_mnist"),
            "activations": ("softsign", "swish", "selu", "gelu", "mish", "maxout", "rrelu"),
        },
        "leaky_alpha": 0.01,
        "leaky_big_alpha": 1 / 5.5,
        # the small CNN of H1 (3x3 convs + 2x pooling, one dense layer)
        "cnn": {
            "datasets": ("digits",),
            "activations": ("relu", "tanh", "sigmoid"),
            "channels": (8, 16),
            "dense_widths": (32,),
        },
        # H4: small training sets: these data sets of the grid, plus Fashion-MNIST subsampled to fashion_sizes
        "h4": {
            "datasets": ("digits", "fashion_mnist"),
            "fashion_sizes": (),
            "variants": ("relu", "leaky_relu", "leaky_relu_big", "prelu", "rrelu"),  # leaky_relu_big: slope 1/5.5
            "rrelu_lower": 3.0,
            "rrelu_upper": 8.0,
            "activation": "rrelu",  # the claimed regulariser, compared with the baseline
        },
        # H3: the activation with learned slopes, compared with the baseline
        "h3": {"activation": "prelu"},
        # F5: every MLP activation but these (and the baseline) is a rival (H3 and H4 cover PReLU and RReLU)
        "f5": {"excluded": ("tanh", "sigmoid", "softsign", "prelu", "rrelu")},
        # C4: small initial weights; small_normal is N(0, 0.01^2), weight_scales multiply it
        "c4": {
            "datasets": ("digits",),
            "activations": ("tanh", "sigmoid", "relu"),
            "init": "small_normal",
            "weight_scales": (1.0, 10.0),
            "reference": "tanh",  # steps of each activation over this one's (f ~ x near 0)
        },
        "criteria": {
            # training-error thresholds (fraction misclassified on the training evaluation subset)
            "threshold": {"digits": 0.05, "mnist1d": 0.5, "fashion_mnist": 0.2, "fashion_1k": 0.2, "fashion_5k": 0.2},
            "h1": {"min_fraction": 0.75, "min_ratio": 2.0, "activations": ("tanh", "sigmoid")},  # the ratios H1 reads
            "h3": {"confidence": 0.95},
            "h4": {"min_fraction": 1.0},
            "f5": {"alpha": 0.05, "named": ("leaky_relu", "elu"), "min_datasets": 2},  # consistent: better on >= 2 sets
            "c4": {"target_dataset": "digits", "activation": "sigmoid"},  # needs more steps than c4.reference
            "c5": {"bounded": ("sigmoid", "tanh", "softsign"), "min_fraction": 0.5},
        },
        "published": {
            "h1": "Krizhevsky et al. 2012, Fig. 1: 4-layer CNN on CIFAR-10 reaches 25% training error 6x faster "
            "with ReLU than with tanh",
            "h1_ratio": 6.0,
            "h3": "He et al. 2015: PReLU +1.2% top-1 (14-layer ImageNet model), +1.05% (large model); "
            "the documents quote 1.03%",
            "h3_gain_pct": 1.03,
            "h4": "Xu et al. 2015: non-zero negative slope helps; Leaky/PReLU overfit on small data, RReLU does not "
            "(NDSB winner, a ~ U(3, 8))",
        },
    }
    overrides = {
        "smoke": {
            "seeds": 2,
            "steps": 60,
            "log_every": 20,
            "n_eval": 256,
            "n_test": 256,
            "learning_rates": (0.1, 1.0),
            "mlp_widths": (16, 16),
            "grid.datasets": ("digits",),
            "grid.activations": ("relu", "tanh", "leaky_relu", "prelu"),
            "extra.datasets": ("digits",),
            "extra.activations": ("rrelu",),
            "cnn.datasets": (),
            "h4.datasets": ("digits",),
            "h4.variants": ("relu", "prelu", "rrelu"),
            "c4.activations": ("tanh", "sigmoid"),
            "criteria.threshold.digits": 0.3,
        },
        "paper": {
            "steps": 1000,
            "log_every": 25,
            "n_eval": 2048,
            "n_test": 2048,
            "mlp_widths": (64, 64, 64),
            "fashion_n_train": 5000,
            "grid.datasets": ("digits", "mnist1d", "fashion_mnist"),
            "grid.activations": (
                "relu", "tanh", "sigmoid", "softsign", "leaky_relu", "elu", "selu", "swish", "gelu", "mish",
                "maxout", "prelu", "rrelu",
            ),
            "extra.activations": (),
            "cnn.datasets": ("digits", "mnist1d", "fashion_mnist"),
            "h4.fashion_sizes": (1000,),
            "c4.datasets": ("digits", "mnist1d"),
        },
    }.get(preset, {})
    return kc.build(fields, overrides)
