"""Config of experiments.linear_collapse (claims A1, C1: without a nonlinearity depth collapses).

Run:      python -m experiments.linear_collapse --config configs/linear_collapse.py:smoke
Runtime:  default 34 s on 2 idle CPU cores (committed run: compile 24 s in 63 compiles, execute 8 s,
          47.8 GFLOP/s against a measured 425 GFLOP/s matmul peak); smoke presets run in the test suite at XLA opt level 0 (all nine smoke runs ~2 min together).
Expected: the trained deep linear nets (identity, and c*x) equal their composed affine map to
          float32 precision; their best training loss equals a single linear layer's on xor,
          two_moons and mnist1d, while relu and tanh nets of the same size reach a lower loss.
"""

from experiments.kit import config as kc


def get_config(preset: str | None = None):
    preset = kc.preset_name(preset)
    fields = {
        "preset": preset,
        "datasets": ("xor", "two_moons", "mnist1d"),
        "n_train": 4000,  # at most; xor and two_moons have 1639 training examples
        "width": 32,
        "depth": 3,  # hidden layers of the deep nets
        "linear_c": 0.8,  # the c of the c*x activation (acts "linear"); three layers of c*x = one of c^3*x
        "nonlinear": ("relu", "tanh"),
        "initializer": "xavier_uniform",
        "seeds": 10,
        "learning_rates": (0.003, 0.01, 0.03),  # adam; the best per condition (lowest mean best-loss)
        "optimizer": "adam",
        "loss": "xent",
        "steps": 1000,
        "batch_size": 64,
        "log_every": 100,
        "n_eval": 1024,
        "criteria": {
            "a1": {
                # (a) max |net(x) - (x A + b)| / max |net(x)| over the test inputs, every trained run
                "collapse_rel_tol": 1e-5,
                # (b) equivalence: the paired 95% CI of best-loss(deep linear) - best-loss(one layer)
                # lies inside [-equiv_tol, +equiv_tol] (nats)
                "equiv_tol": 0.02,
                # (b) "strictly better": the paired 95% CI of best-loss(nonlinear) - best-loss(one layer)
                # lies below -better_margin (nats)
                "better_margin": 0.0,
            }
        },
        "published": {"a1": "documents 000-003: any depth of c*x layers is one linear layer (c^3*x for three)"},
    }
    overrides = {
        "smoke": {
            "datasets": ("xor",),
            "seeds": 3,
            "learning_rates": (0.01, 0.03),
            "steps": 200,
            "log_every": 50,
            "n_eval": 512,
        },
    }.get(preset, {})
    return kc.build(fields, overrides)
