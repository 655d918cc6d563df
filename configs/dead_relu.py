"""Config of experiments.dead_relu (claims F1, F2, F3, F4, G3).

Run:      python -m experiments.dead_relu --config configs/dead_relu.py:smoke
Runtime:  default 123 s on 2 idle CPU cores (committed run: compile 50 s in 35 compiles, execute 70 s,
          60.2 GFLOP/s against a measured 425 GFLOP/s matmul peak); smoke presets run in the test suite at XLA opt level 0 (all nine smoke runs ~2 min together).
Paper:    the full activation x optimiser x init x data set grid with 10 seeds, for a bigger machine; not run here.
Expected: ReLU units die in numbers only at high learning rates (close to divergence); born-dead
          units are absent in wide MLPs at init but common in deep narrow nets (Lu et al. 2019);
          Leaky ReLU / PReLU / ELU units keep a non-zero derivative.

Definitions (F1-F4): a unit is dead when its output is exactly 0 on every example of the
evaluation set, which is the WHOLE training set (Fashion-MNIST subsampled to ``n_train`` = 4096
examples, mnist1d's 4000), re-checked every ``log_every`` steps (``n_eval`` >= the training-set
size). For activations without a hard zero a unit is counted when max |phi'(h)| <= ``grad_tol``
on the whole set. Revival: a unit dead at one check and alive at a later one.
"""

from experiments.kit import config as kc

LRS = (3.16e-4, 1e-3, 3.16e-3, 1e-2, 3.16e-2, 0.1, 0.316, 1.0, 3.16)
INITS = ("normal", "small_normal", "xavier_uniform", "he_normal")
OPTIMIZERS = ("sgd", "momentum", "adagrad", "adam")


def get_config(preset: str | None = None):
    preset = kc.preset_name(preset)
    fields = {
        "preset": preset,
        "seeds": 5,
        "n_train": 4096,
        "n_eval": 4096,
        "n_test": 1024,
        "width": 128,
        "depth": 3,
        "steps": 300,
        "batch_size": 64,
        "log_every": 100,
        "learning_rates": LRS,
        "grad_tol": 1e-6,
        # Each sweep is a Cartesian product; cells shared by sweeps are trained once.
        # normal and small_normal are one compile (small_normal = 0.01 x the same N(0,1) draw).
        "sweeps": {
            "causes": {"datasets": ("fashion_mnist", "mnist1d"), "activations": ("relu",), "optimizers": ("sgd",), "inits": INITS},
            "optimisers": {"datasets": ("mnist1d",), "activations": ("relu",), "optimizers": OPTIMIZERS, "inits": ("he_normal",)},
            "leaky": {
                "datasets": ("mnist1d",), "activations": ("relu", "leaky_relu", "prelu", "elu"), "optimizers": ("sgd",),
                "inits": ("he_normal",),
            },
        },
        # The roles that activations, optimisers and inits play in the verdicts (F1-F4, G3).
        "roles": {
            "activation": "relu",  # the activation whose units die (F1, F2; F4's reference; G3's wide nets)
            "optimizer": "sgd",  # plain SGD: the F1/F2 cells and F3's baseline
            "xavier_init": "xavier_uniform",  # F3(b): Xavier vs each naive init, both with SGD
            "naive_inits": ("normal", "small_normal"),
            "optimizers": ("adagrad", "adam", "momentum"),  # F3's table: each vs SGD at equal base lr
            "remedy_optimizer": "adagrad",  # F3(c): the optimiser remedy the verdict reads
        },
        "g3": {
            "widths": (2, 3, 5, 10, 20),
            "max_depth": 50,
            "n_init": 1000,
            "n_points": 257,
            "input_dim": 1,
            "bias_std": 0.0,
            "fit_width": 2,
            "fit_depth": 10,
            "fit_nets": 1000,
            "fit_steps": 3000,
            "fit_batch": 64,
            "fit_learning_rate": 1e-3,
            "collapse_tol": 1e-3,
        },
        "criteria": {
            "f1": {"min_dead": 0.05, "max_revival": 0.1},
            "f2": {"max_born_dead": 0.01, "min_lr_effect": 0.10},
            "f3": {"dead_threshold": 0.05},
            "f4": {"max_dead": 0.01, "relu_min_dead": 0.05},
            "g3": {"min_narrow_p": 0.5, "narrow_width": 2, "narrow_depth": 10},
        },
        "published": {
            "cs231n_dead_fraction": 0.40,
            "cs231n": "CS231n notes: with too high a learning rate 'as much as 40% of your network can be dead'",
            "lu_bound_depth10": {"w2": 0.925, "w3": 0.70, "w5": 0.25, "w10": 0.009},
            "lu_collapse_fraction": 0.90,
            "lu": "Lu et al. 2019: P(born dead) <= 1 - prod_{l<L}(1 - 2^-N_l); width-2 depth-10 |x| fit "
            "collapses in more than 90% of 1000 runs",
        },
    }
    small = {"datasets": ("mnist1d",), "activations": ("relu",), "optimizers": ("sgd",), "inits": ("normal", "small_normal")}
    overrides = {
        "smoke": {
            "seeds": 2, "width": 32, "steps": 60, "log_every": 20, "batch_size": 32,
            "learning_rates": (1e-2, 0.316, 3.16),
            "sweeps.causes": small,
            "sweeps.optimisers": {
                "datasets": ("mnist1d",), "activations": ("relu",), "optimizers": ("sgd", "adagrad"), "inits": ("normal",)
            },
            "sweeps.leaky": {
                "datasets": ("mnist1d",), "activations": ("relu", "leaky_relu"), "optimizers": ("sgd",), "inits": ("normal",)
            },
            "g3.widths": (2,), "g3.max_depth": 12, "g3.n_init": 300, "g3.n_points": 65,
            "g3.fit_nets": 200, "g3.fit_steps": 300,
        },
        "paper": {
            "seeds": 10,
            "sweeps.causes": {
                "datasets": ("fashion_mnist", "mnist1d"), "activations": ("relu", "leaky_relu", "prelu", "elu"),
                "optimizers": OPTIMIZERS, "inits": INITS,
            },
            "g3.n_init": 5000,
            "g3.fit_steps": 10000,
        },
    }.get(preset, {})
    return kc.build(fields, overrides)
