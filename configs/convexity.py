"""Config of experiments.convexity (claim C3: monotonic activation => convex single-layer net).

Run:      python -m experiments.convexity --config configs/convexity.py:smoke
Runtime:  default 9 s on 2 idle CPU cores (measured, process included: 11 compiles, compile 1.7 s,
          execute 3.8 s: ONE program for every activation x loss, lax.map over a lax.switch index,
          pre-activations interpolated along each line; revision 1: 90 compiles, 26 s); smoke 6 s.
Expected: identity (with either loss) shows no violations; squared error with a monotonic but
          saturating output (sigmoid, tanh, relu, step, ...) violates midpoint convexity along a
          sizeable fraction of random lines, so "monotonic => convex" is refuted as stated, for
          each loss (Auer et al. 1996 proved the squared-loss case for a sigmoid neuron).
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
                # R2 parts (each on its Wilson 95% CI against nonconvex_rate_lo, R3): per loss, "every monotonic
                # activation gives a convex single-layer loss" (universal: decided on the worst monotonic activation
                # not in headline_excludes; refuted when its lower bound exceeds nonconvex_rate_lo; supported only
                # if its upper bound does not, which random lines cannot show: inconclusive), and Auer et al.'s
                # case (headline_activation with headline_loss), the key number. Combinations whose upper bound
                # stays below holds_below are reported as showing no violations.
                "nonconvex_rate_lo": 0.0,
                "holds_below": 0.05,
                # Auer et al.'s single sigmoid neuron with squared loss: a part of its own, and the key number
                "headline_activation": "sigmoid",
                "headline_loss": "mse",
            }
        },
        "published": {
            "c3": "Auer, Herbster & Warmuth 1996 (NIPS 8, 'Exponentially many local minima for single neurons'): a single "
                  "sigmoid neuron with squared loss can have exponentially many local minima in the input dimension "
                  "(a count of minima, not a rate of violating lines)"
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
