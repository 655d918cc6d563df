"""Config of experiments.convexity (claim C3: monotonic activation => convex single-layer net).

Run:      python -m experiments.convexity --config configs/convexity.py:smoke
Runtime:  default 26 s on 2 idle CPU cores (committed run: compile 14 s in 90 compiles, execute 11 s,
          7.0 GFLOP/s against a measured 425 GFLOP/s matmul peak); smoke presets run in the test suite at XLA opt level 0 (all nine smoke runs ~2 min together).
Expected: identity (with either loss) shows no violations; squared error with a monotonic but
          saturating output (sigmoid, tanh, relu, step, ...) violates midpoint convexity along a
          sizeable fraction of random lines, so "monotonic => convex" is refuted as stated.
"""

from experiments.kit import config as kc


def get_config(preset: str | None = None):
    preset = kc.preset_name(preset)
    fields = {
        "preset": preset,
        "dataset": "gaussian",  # x ~ N(0, I_32), labels from a random linear teacher, 2 classes
        "n_train": 256,
        "seeds": 5,  # each seed draws its own set of random lines
        "lines_per_seed": 200,
        "points_per_line": 17,  # grid t = 0..1 along each line; midpoint tests at spans 1, 2, 4, 8
        "weight_scales": (0.5, 2.0, 8.0),  # endpoint entries ~ N(0, (scale/sqrt(d))^2): pre-activation std ~ scale
        "activations": (
            "identity",
            "sigmoid",
            "tanh",
            "relu",
            "leaky_relu",
            "elu",
            "softplus",
            "step",
            "swish",
            "gelu",
            "mish",
        ),
        "losses": ("mse", "xent"),
        # C3's headline counter-example skips these (a piecewise-constant loss violates trivially at its jumps)
        "headline_excludes": ("step",),
        "criteria": {
            "c3": {
                # a midpoint violation: L(mid) > (L(left) + L(right))/2 + abs_tol + rel_tol * max|L|
                "abs_tol": 1e-6,
                "rel_tol": 1e-5,
                # an activation is monotonic when min f'(x) >= -monotone_tol on [-monotone_range, +range]
                "monotone_tol": 1e-7,
                "monotone_range": 10.0,
                # a combination "is non-convex" when the Wilson 95% lower bound of its violation
                # rate exceeds this; "holds" when the upper bound stays below holds_below
                "nonconvex_rate_lo": 0.0,
                "holds_below": 0.05,
            }
        },
        "published": {
            "c3": "document 002: 'when the activation is monotonic, a single-layer network is guaranteed convex'"
        },
    }
    overrides = {
        "smoke": {
            "seeds": 2,
            "lines_per_seed": 40,
            "n_train": 128,
            "weight_scales": (0.5, 8.0),
            "activations": ("identity", "sigmoid", "relu", "swish"),
        },
    }.get(preset, {})
    return kc.build(fields, overrides)
