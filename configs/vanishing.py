"""Config of experiments.vanishing (claims D1-D6).

Run:      python -m experiments.vanishing --config configs/vanishing.py:smoke
Runtime:  default 96 s on 2 idle CPU cores (committed run: compile 43 s in 122 compiles, execute 45 s,
          27.7 GFLOP/s against a measured 425 GFLOP/s matmul peak); smoke presets run in the test suite at XLA opt level 0 (all nine smoke runs ~2 min together).
Expected: the sigmoid's derivative product always respects 0.25^n, but the actual gradient ratio
          does not for N(0,1) weights (it grows); tanh vanishes for inits with sigma_w^2 < 1;
          ReLU keeps its gradient with He init but not with Xavier; deep sigmoid nets do not train
          in the budget without BatchNorm; trainability tracks depth < 6 xi_c.
"""

from experiments.kit import config as kc


def get_config(preset: str | None = None):
    preset = kc.preset_name(preset)
    fields = {
        "preset": preset,
        "parts": ("profile", "saturation", "depth", "chaos"),  # which measurements to run
        "profile": {  # D1, D2, D3, D5: gradients at initialisation
            "activations": ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "swish", "gelu", "mish", "identity"),
            "inits": ("normal", "small_normal", "standard", "xavier_normal", "he_normal", "orthogonal"),
            "datasets": ("gaussian", "digits"),
            "depth": 50,
            "width": 128,  # 256 in the paper preset (CPU budget)
            "seeds": 10,
            "batch_size": 64,
            "fit_skip": 5,  # layers left out at each end of the log-decay fit (boundary effects)
        },
        "saturation": {  # D4: Glorot & Bengio 2010, standard init, plain SGD
            "activations": ("sigmoid", "tanh", "relu"),
            "dataset": "fashion_mnist",
            "n_train": 10000,
            "hidden_layers": 4,
            "width": 128,
            "init": "standard",
            "learning_rate": 0.1,
            "steps": 600,
            "batch_size": 32,
            "log_every": 50,
            "n_eval": 512,
            "seeds": 5,
        },
        "depth_sweep": {  # D6
            "activations": ("sigmoid", "tanh", "relu"),
            "inits": ("xavier_normal", "xavier_normal", "he_normal"),  # one per activation
            "dataset": "digits",
            "n_train": 100000,  # all of digits
            "depths": (2, 5, 10, 20, 30, 50),
            "width": 32,
            "learning_rates": (0.03, 0.3),
            "steps": 200,
            "batch_size": 32,
            "n_eval": 1024,
            "seeds": 5,
        },
        "chaos": {  # D5 map / Schoenholz et al. 2017
            "activation": "tanh",
            "dataset": "fashion_mnist",
            "n_train": 10000,
            "sigma_w2": (0.5, 1.0, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0),
            "sigma_b2": 0.05,
            "depths": (4, 8, 16, 32, 48),
            "width": 32,
            "learning_rate": 0.05,
            "steps": 200,
            "batch_size": 32,
            "n_eval": 1024,
            "seeds": 5,
        },
        "criteria": {
            # each claim names the activation(s) (and inits) it is about; they must be in the part's config
            "d1": {"bound": 0.25, "tolerance": 1e-6, "activation": "sigmoid"},  # a: log10 prod max phi' <= n log10 0.25 + tol
            "d2": {"max_fraction_of_bound": 0.95, "theory_rel_tol": 0.10, "activation": "sigmoid"},  # mean sigma' <= 0.95*0.25
            "d3": {"vanish_log10_ratio": -2.0, "activation": "tanh"},  # ||dL/dh_1||/||dL/dh_L|| < 1e-2 = vanished
            "d4": {"saturation_rise": 0.10, "layer": "top", "activations": ("sigmoid", "tanh")},  # rise of the |h|>2 fraction
            "d5": {"keep_log10_ratio": -1.0, "agreement_tol": 0.05, "activation": "relu",  # ratio >= 0.1: gradient kept
                   "inits": ("he_normal", "xavier_normal")},  # the first: the init the old key number was about
            # activation: the arm that fixes it (ReLU); activations: the saturating arms, each also with BatchNorm
            "d6": {"trainable_acc": 0.5, "margin": 0.10, "depth": 50, "activation": "relu", "activations": ("sigmoid", "tanh")},
            "chaos": {"trainable_acc": 0.5, "multiple_of_xi": 6.0, "min_agreement": 0.7},
        },
        "published": {
            "d1": "0.25^2 = 1/16 after two layers, 0.25^10 ~ 1/1048576 after ten (seed 000)",
            "d4": "Glorot & Bengio 2010 Fig. 2: sigmoid, 4 hidden layers of 1000, standard init, SGD: the top "
               "hidden layer's outputs saturate to 0 almost at once and desaturate slowly (~epoch 100)",
            "chaos": "Schoenholz et al. 2017: a net is trainable iff depth <~ 6 xi_c",
        },
    }
    overrides = {
        "smoke": {
            "profile.activations": ("sigmoid", "tanh", "relu"),
            "profile.inits": ("normal", "standard", "xavier_normal", "he_normal"),
            "profile.datasets": ("gaussian",),
            "profile.depth": 10, "profile.width": 32, "profile.seeds": 3, "profile.batch_size": 16,
            "profile.fit_skip": 2,
            "saturation.activations": ("sigmoid",), "saturation.n_train": 512, "saturation.hidden_layers": 2,
            "saturation.width": 16, "saturation.steps": 20, "saturation.log_every": 10,
            "saturation.n_eval": 128, "saturation.seeds": 2, "saturation.dataset": "digits",
            "depth_sweep.activations": ("sigmoid", "relu"), "depth_sweep.inits": ("xavier_normal", "he_normal"),
            "depth_sweep.depths": (2, 8), "depth_sweep.width": 16, "depth_sweep.steps": 30,
            "depth_sweep.n_eval": 256, "depth_sweep.seeds": 2,
            "chaos.sigma_w2": (1.0, 2.0, 4.0), "chaos.depths": (2, 8), "chaos.width": 16, "chaos.steps": 30,
            "chaos.n_train": 1000, "chaos.dataset": "digits", "chaos.n_eval": 256, "chaos.seeds": 2,
        },
        "paper": {
            "profile.batch_size": 256, "profile.width": 256, "depth_sweep.dataset": "fashion_mnist",
            "saturation.width": 1000, "saturation.batch_size": 10, "saturation.steps": 20000,
            "saturation.log_every": 500, "saturation.n_train": 60000, "saturation.n_eval": 2048, "saturation.seeds": 10,
            "depth_sweep.width": 256, "depth_sweep.steps": 3000, "depth_sweep.learning_rates": (0.01, 0.03, 0.1, 0.3),
            "depth_sweep.seeds": 10,
            "chaos.width": 256, "chaos.steps": 3000, "chaos.depths": (10, 20, 40, 60, 80, 100),
            "chaos.n_train": 60000, "chaos.seeds": 10,
        },
    }.get(preset, {})
    return kc.build(fields, overrides)
