"""Config of experiments.derivatives (claims A2, C2, B1-B12: every printed formula vs autodiff).

Run:      python -m experiments.derivatives --config configs/derivatives.py:smoke
Runtime:  default 9 s on 2 idle CPU cores (measured, process included: 4 compiles,
          execute 0.9 s; the formula checks, the perceptrons and the MLPs are one program each; revision
          1: 254 compiles, 17 s); smoke 16 s; the tests run smoke at XLA opt level 0.
Expected: B1-B5, B8, B10-B12 supported (B10: correct, but overflows to NaN in float32 for
          x > ~22); B7 qualified (the function is right; document 003's label "ELU'" on it is wrong: as a
          derivative it fails); B9 refuted (the printed
          Swish derivative carries an extra factor beta*x; the printed f ignores beta); B6
          qualified (test-time divisor is the mean divisor, not the mean training output);
          A2 supported (step: gradient exactly 0, loss unchanged; sigmoid learns); C2 qualified
          (relu is not differentiable at 0 yet learns: what is needed is a non-zero derivative).
"""

from experiments.kit import config as kc


def get_config(preset: str | None = None):
    preset = kc.preset_name(preset)
    fields = {
        "preset": preset,
        "grid_lo": -30.0,
        "grid_hi": 30.0,
        "grid_n": 120001,  # dense float32 grid (spacing 5e-4) on [grid_lo, grid_hi]
        # edge values checked on top of the grid: +-30, 0 and tiny magnitudes
        "edges": (-30.0, -20.0, -1.0, -1e-3, -1e-7, -1e-20, -1e-38, 0.0, 1e-38, 1e-20, 1e-7, 1e-3, 1.0, 20.0, 30.0),
        "leaky_alpha": 0.01,
        "prelu_alpha": 0.25,
        "elu_alpha": 1.0,
        "swish_betas": (0.5, 1.0, 2.0),
        "rrelu_lower": 3.0,
        "rrelu_upper": 8.0,
        "rrelu_draws": 200000,
        "maxout_ks": (2, 3),
        "maxout_width": 8,
        "softmax_vectors": 256,
        "softmax_dim": 10,
        "softmax_scales": (1.0, 10.0, 30.0),
        "two_class_n": 801,  # (z1, z2) grid on [grid_lo, grid_hi]^2
        "mish_scan_lo": -200.0,  # where the printed Mish derivative is scanned for float32 overflow
        "mish_scan_hi": 200.0,
        # A2/C2: step vs sigmoid (vs relu); a perceptron out = f(xW + b) and an MLP with f hidden
        "seeds": 10,
        "perceptron_dataset": "gaussian",
        "perceptron_learning_rate": 0.5,
        "perceptron_steps": 300,
        "mlp_dataset": "two_moons",
        "mlp_widths": (32, 32),
        "mlp_activations": ("step", "sigmoid", "relu"),
        # the roles A2/C2 decide on (each must be in mlp_activations to be tested in the MLP): the step
        # (derivative 0 wherever defined), its smooth replacement, and an activation not differentiable
        # everywhere (C2 is inconclusive on that part when mlp_activations leaves it out, as smoke does)
        "step_activation": "step",
        "smooth_activation": "sigmoid",
        "kinked_activation": "relu",
        "learning_rate": 0.1,
        "optimizer": "sgd",
        "loss": "mse",
        "steps": 600,
        "batch_size": 64,
        "log_every": 50,
        "n_eval": 1024,
        "criteria": {
            "formula": {
                # float32: a printed formula agrees with autodiff when |printed - autodiff| <= atol + rtol*|autodiff|
                # at every grid and edge point (max relative error is reported with the atol floor)
                "rtol": 1e-5,
                "atol": 1e-6,
                # float64 (numpy) re-check of formulas that overflow in float32 (B10)
                "rtol64": 1e-12,
                "atol64": 1e-14,
            },
            "b1": {"max_slope": 0.25, "slope_tol": 1e-6, "argmax_tol": 1e-3},
            "b2": {"mean_tol": 1e-6, "max_slope": 1.0, "slope_tol": 1e-6},
            # RReLU: KS test of the drawn divisors against U(lower, upper) at p >= ks_p_min; "as with dropout"
            # means the test output equals the mean training output within dropout_rel_tol (relative)
            "b6": {"ks_p_min": 0.01, "max_abs_corr": 0.02, "dropout_rel_tol": 0.01},
            "b12": {"all_high": 0.99},
            # A2: the step net's gradient and loss change must be exactly 0; sigmoid must cut the loss by at
            # least min_rel_drop (lower 95% CI bound over seeds)
            "a2": {"min_rel_drop": 0.2},
        },
        "published": {
            # R11: published sources beside ours (the documents themselves are not one)
            "b6": "Xu et al. 2015 (RReLU, NDSB winner): negative inputs divided by a ~ U(l, u), l = 3, u = 8, a fresh draw "
                  "per training step; at test time by (l + u)/2 = 5.5 (document 002 calls U(l, u) 'a Gaussian distribution')",
            "b7": "Clevert et al. 2016: ELU f(x) = x (x > 0), α(eˣ − 1) (x ≤ 0); f′(x) = 1 (x > 0), f(x) + α (x ≤ 0) "
                  "(document 003 prints f under the label ELU′)",
            "b9": "Ramachandran, Zoph & Le 2017: f(x) = x·σ(βx), f′(x) = βf(x) + σ(βx)(1 − βf(x)); document 003 prints "
                  "f′(x) = βf(x) + (βx)/(1+e^{−βx})·(1 − βf(x)) and f(x) = x/(1+e^{−x})",
        },
    }
    overrides = {
        "smoke": {
            "grid_n": 20001,
            "rrelu_draws": 20000,
            "softmax_vectors": 32,
            "two_class_n": 201,
            "seeds": 3,
            "perceptron_steps": 100,
            "steps": 200,
            "mlp_activations": ("step", "sigmoid"),
            "n_eval": 512,
        },
    }.get(preset, {})
    return kc.build(fields, overrides)
