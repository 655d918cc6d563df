"""Config of experiments.initialization (claims G1, G2).

Run:      python -m experiments.initialization --config configs/initialization.py:smoke
Runtime:  default 97 s on 2 idle CPU cores (committed run: compile 43 s in 96 compiles, execute 32 s,
          41.1 GFLOP/s against a measured 425 GFLOP/s matmul peak); smoke presets run in the test suite at XLA opt level 0 (all nine smoke runs ~2 min together).
Expected: naive inits (N(0,1), N(0,0.01^2)) make per-layer activation and/or gradient variance
          change exponentially with depth; Xavier keeps tanh close to steady but lets ReLU's signal
          halve per layer (ratio ~0.5) while He keeps it at ~1; Glorot & Bengio's Jacobian singular
          values (~0.5 standard, ~0.8 normalised, tanh); a 30-layer ReLU MLP with Xavier + SGD stalls.

Four parts:
- ``profile``: per-layer statistics at initialisation (activations x inits), Fashion-MNIST inputs;
- ``glorot``: Glorot & Bengio 2010 Table 1 scaled down (5 hidden layers, SGD minibatch 10);
- ``he``: He et al. 2015's 22- and 30-layer experiment scaled down to ReLU MLPs with plain SGD;
- ``criteria``: the decision rules, fixed before any run.
"""

from experiments.kit import config as kc


def get_config(preset: str | None = None):
    preset = kc.preset_name(preset)
    fields = {
        "preset": preset,
        "profile": {
            "dataset": "fashion_mnist",
            "activations": ("tanh", "sigmoid", "relu"),
            "inits": ("normal", "small_normal", "standard", "xavier_uniform", "he_normal"),
            "depth": 10,
            "width": 256,  # Glorot & Bengio used 1000; 256 keeps the SVDs cheap on CPU
            "n_examples": 512,  # inputs per seed for the moments and histograms
            "jac_examples": 2,  # inputs per seed whose layer-to-layer Jacobians are decomposed (SVD)
            "jac_layers": 4,  # Jacobians J_0..J_3 averaged for the comparison with Glorot's 5-layer nets
            "hist_bins": 40,
            "seeds": 10,
        },
        "glorot": {
            "datasets": ("fashion_mnist", "digits"),
            "activations": ("tanh", "sigmoid", "softsign"),
            "inits": ("standard", "xavier_uniform"),
            "depth": 5,
            "width": 128,  # Glorot & Bengio: 1000 units per layer
            "optimizer": "sgd",
            "batch_size": 10,  # as in Glorot & Bengio
            "steps": 500,
            "log_every": 250,
            "n_val": 1000,  # held out of the training set; learning rates are chosen on it, never on test
            "n_eval": 1000,
            "learning_rates": (0.02, 0.07, 0.25),
            "seeds": 5,
        },
        "he": {
            "dataset": "digits",
            "depths": (22, 30),
            # He et al.'s "Xavier" is N(0, 1/fan_in) = he_normal x 1/sqrt(2); both are vmapped weight scales
            "activation": "relu",
            "base_init": "he_normal",
            "labels": ("xavier", "he"),
            "weight_scales": (0.7071067811865476, 1.0),
            "width": 64,
            "optimizer": "sgd",
            "batch_size": 16,
            "steps": 500,
            "log_every": 50,
            "n_eval": 512,
            "learning_rates": (0.01, 0.03, 0.1),
            "seeds": 5,
            "target_loss": 1.0,  # steps to reach this training cross-entropy (initial ~ ln 10 = 2.30)
        },
        "criteria": {
            "g1": {
                # |slope of ln Var per layer| (nats/layer) of activations or back-propagated gradients
                "steady": 0.1,  # <= this: steady (variance changes < e^0.1 = 1.105x per layer)
                "vanish_explode": 0.5,  # >= this: vanishing/exploding (> e^0.5 = 1.65x per layer)
                "naive_inits": ("normal", "small_normal"),
                "steady_inits": ("xavier_uniform",),
                "derived_for": "tanh",  # Xavier's derivation assumes a linear regime around 0 (tanh)
            },
            "g2": {
                "activation": "relu",  # the activation whose ratios G2 predicts
                "inits": ("xavier_uniform", "he_normal"),  # (Xavier, He): predicted xavier_ratio, he_ratio
                "xavier_ratio": 0.5,  # predicted E[h_{l+1}^2]/E[h_l^2] for relu + Xavier (fan_in = fan_out)
                "he_ratio": 1.0,  # predicted for relu + He
                "rel_tol": 0.1,  # |measured/predicted - 1| <= rel_tol, on the mean over seeds
            },
            "he": {
                "stall_drop": 0.1,  # stalls: (initial - final train loss) / initial < 0.1 at the best lr
            },
        },
        "published": {
            "glorot_jacobian": {"tanh_standard": 0.5, "tanh_xavier_uniform": 0.8},
            "glorot_jacobian_source": (
                "Glorot & Bengio 2010, sec. 4.2.2 / Figs 6-7: mean singular value of the layer-to-layer "
                "Jacobian ~0.5 (standard init), ~0.8 (normalised init), tanh, 5 hidden layers of 1000 units"
            ),
            "glorot_table1_mnist": {
                "softsign_standard": 1.64, "softsign_xavier_uniform": 1.72, "tanh_standard": 1.76,
                "tanh_xavier_uniform": 1.64, "sigmoid_standard": 2.21,
            },
            "glorot_table1_source": (
                "Glorot & Bengio 2010, Table 1, MNIST test error (%), 5 hidden layers of 1000 units, "
                "SGD minibatch 10 (N = normalised init)"
            ),
            "he_source": (
                "He et al. 2015, Fig. 3: 30-layer conv net on ImageNet, Xavier stalls completely, He "
                "converges; 22-layer: both converge, He earlier"
            ),
        },
    }
    overrides = {
        "smoke": {
            "profile.inits": ("normal", "small_normal", "standard", "xavier_uniform", "he_normal"),
            "profile.activations": ("tanh", "relu"),
            "profile.dataset": "digits",
            "profile.depth": 6,
            "profile.width": 64,
            "profile.n_examples": 128,
            "profile.seeds": 3,
            "profile.jac_examples": 1,
            "glorot.datasets": ("digits",),
            "glorot.activations": ("tanh",),
            "glorot.width": 32,
            "glorot.steps": 60,
            "glorot.log_every": 30,
            "glorot.n_val": 200,
            "glorot.n_eval": 200,
            "glorot.learning_rates": (0.05, 0.2),
            "glorot.seeds": 2,
            "he.depths": (10,),
            "he.width": 16,
            "he.steps": 60,
            "he.log_every": 20,
            "he.n_eval": 256,
            "he.learning_rates": (0.03, 0.1),
            "he.seeds": 2,
        },
    }.get(preset, {})
    return kc.build(fields, overrides)
