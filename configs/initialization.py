"""Config of experiments.initialization (claims G1, G2).

Run:      python -m experiments.initialization --config configs/initialization.py:smoke
Runtime:  default ~70 s on 2 idle CPU cores (143 CPU s measured with the compile cache off, 21 compiles; per
          part about profile 20, gb 23, glorot 25, he 70 CPU s; see the manifest for compile_s, n_compiles,
          execute_s). paper (not run here): ~4 h on 2 idle CPU cores, estimated by scaling each part's default
          CPU time by its FLOPs: Glorot & Bengio's Table 1 at 1000 units x 5000 steps on two data sets ~3.5 h,
          the 1000-unit Jacobian SVDs ~5 min, the 1000-unit float64 profile ~2 min, He et al.'s nets ~6 min;
          minutes on one GPU.
Expected: naive inits (N(0,1), N(0,0.01^2)) change activation and/or gradient variance by far more
          than x10 over a 50-layer net; Xavier keeps tanh closer to steady than ReLU (whose signal
          halves per layer, ratio ~0.5) while He keeps ReLU at ~1; Glorot & Bengio's Jacobian mean
          singular values (~0.5 standard, ~0.8 normalised, tanh); a 30-layer ReLU MLP with Xavier +
          SGD stalls where He trains; at 22 layers both train, He sooner.

Parts:
- ``profile`` (G1, G2): per-layer statistics at initialisation of 50-layer MLPs (activations x
  inits, N(0,1) also at a second width), in float64 (R10: no variance under/overflows);
- ``gb`` (G1's published numbers): Glorot & Bengio 2010's 5-layer tanh nets at init (Figs 6-7,
  sec. 4.2.2): Jacobian singular values and histograms, inputs standardised and in [0, 1];
- ``glorot``: Glorot & Bengio 2010 Table 1 scaled down (5 hidden layers, SGD minibatch 10);
- ``he`` (G2): He et al. 2015's 22- and 30-layer experiment scaled down to ReLU MLPs with plain SGD;
- ``criteria``: the decision rules, fixed before any run (DECISIONS.md rows G1, G2, rules R3, R7, R8).
"""

from experiments.kit import config as kc

PAPER_RUNTIME = ("~4 h on 2 idle CPU cores (estimated from the default's CPU seconds scaled by FLOPs, not run here): Glorot & Bengio's Table 1 at 1000 units x 5000 steps on two data sets ~3.5 h, the 1000-unit Jacobian SVDs ~5 min, the 1000-unit float64 profile ~2 min, He et al.'s nets ~6 min; minutes on one GPU")


def get_config(preset: str | None = None):
    preset = kc.preset_name(preset)
    fields = {
        "preset": preset,
        "profile": {
            "dataset": "fashion_mnist",
            "activations": ("sigmoid", "tanh", "relu"),
            "inits": ("normal", "small_normal", "standard", "xavier_uniform", "lecun_normal", "he_normal"),
            "depth": 50,  # DECISIONS.md G1: "over a 50-layer net"
            "width": 256,  # Glorot & Bengio used 1000 (the paper preset)
            "extra_width": 64,  # N(0,1) also at this width: its per-layer gain grows with sqrt(width) (G1 row)
            "extra_inits": ("normal",),
            "n_examples": 32,  # inputs per seed: variances over 32 x width values per layer
            "seeds": 10,
        },
        "gb": {
            "dataset": "fashion_mnist",  # Glorot & Bengio's Figs 6-7 use Shapeset-3x2 (not available here)
            "activation": "tanh",
            "inits": ("standard", "xavier_uniform"),
            "depth": 5,  # Glorot & Bengio: 5 hidden layers
            "width": 256,  # Glorot & Bengio: 1000 (paper preset)
            "scalings": ("standardised", "unit"),  # zero-mean unit-variance features; pixels in [0, 1]
            "n_examples": 256,  # inputs per seed for the moments and histograms
            "jac_examples": 1,  # inputs per seed whose layer-to-layer Jacobians J_1..J_4 are decomposed (SVD)
            "hist_bins": 40,
            "seeds": 10,
        },
        "glorot": {
            "datasets": ("fashion_mnist",),  # the MNIST-like set; digits in the paper preset
            "activations": ("tanh", "sigmoid", "softsign"),
            "inits": ("standard", "xavier_uniform"),
            "depth": 5,
            "width": 64,  # Glorot & Bengio: 1000 units per layer (paper preset)
            "optimizer": "sgd",
            "batch_size": 10,  # as in Glorot & Bengio
            "steps": 500,
            "log_every": 250,
            "n_val": 500,  # held out of the training set; learning rates are chosen on it, never on test
            "n_eval": 500,  # examples evaluated at each log point (the validation loss reads n_val of them)
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
            "width": 32,
            "optimizer": "sgd",
            "batch_size": 16,
            "steps": 2000,
            "log_every": 100,
            "n_eval": 256,  # training examples on which train loss/accuracy are logged
            # R6: a log grid of 3 rates per decade for each arm (init), from a pilot on 0.001..0.46 where both
            # arms' best rates at both depths lay inside it; an arm's best lr is the one with the lowest mean
            # final training loss over seeds (diverged never chosen); a best at an edge of the rates tried adds
            # as many more beyond it on the same lattice (another call), up to lr_extensions times
            "learning_rates": (0.004641588833612777, 0.01, 0.021544346900318832, 0.046415888336127774),
            "lr_extensions": 3,
            "seeds": 10,
            "target_loss": 1.0,  # steps to reach this training cross-entropy (initial ~ ln 10 = 2.30)
        },
        "criteria": {
            "g1": {
                # DECISIONS.md G1: over the 50-layer net, "steady" = the variance changes by at most x10 between
                # the first and the last hidden layer (|log10 gain| <= 1, i.e. ln 10 / 49 = 0.047 nats per layer;
                # the row's "ln 10 / 50 = 0.046" counts 50 steps), "vanishes/explodes" = beyond; each decided on
                # the CI over seeds of log10(Var_last / Var_first) (R3). Activations forwards (layer 1 -> 50),
                # gradients dL/dh backwards (layer 50 -> 1). The claim says "their variance": the gradient's
                # quantity is Var(dL/dh) (the row's "gradient norm" squared, per unit).
                "max_decades": 1.0,
                "activations": ("sigmoid", "tanh", "relu"),
                "naive_inits": ("normal", "small_normal"),  # should vanish or explode
                "steady_inits": ("xavier_uniform",),  # should be steady
            },
            "g2": {
                "activation": "relu",  # the activation whose ratios G2 predicts
                "inits": ("xavier_uniform", "he_normal"),  # (Xavier, He): predicted xavier_ratio, he_ratio
                "xavier_ratio": 0.5,  # predicted E[h_{l+1}^2]/E[h_l^2] for relu + Xavier (fan_in = fan_out)
                "he_ratio": 1.0,  # predicted for relu + He
                "rel_tol": 0.1,  # supported iff the CI of |ratio/predicted - 1| lies within rel_tol (R3)
            },
            "he": {
                "train_margin": 0.1,  # R8: a seed trains iff its final train accuracy >= chance + 0.1
                # "trains" (an init at a depth): the Wilson CI of the fraction of seeds that train lies above
                # 0.5 (most seeds); "stalls": it lies below 0.5 (R3 on the proportion)
                "majority": 0.5,
                # He sooner (22 layers): CI of mean steps to target_loss, Xavier / He (paired bootstrap over
                # seeds), wholly above 1. R7: a censored seed counts as the step budget; > 20% censored in an
                # arm makes the ratio a bound (Xavier censored: a lower bound; He censored: an upper bound),
                # > 50% censored in both arms -> inconclusive
                "sooner_ratio": 1.0,
                "censor_bound": 0.2,
                "censor_max": 0.5,
            },
        },
        "published": {
            "g1": (
                "Glorot & Bengio 2010, sec. 4.2.2 and Figs 6-7: mean singular value of the layer-to-layer "
                "Jacobian ~0.5 with the standard init U[+-1/sqrt(n)], ~0.8 with the normalised init, tanh, "
                "5 hidden layers of 1000 units, Shapeset-3x2 inputs; activations and back-propagated gradients "
                "shrink/spread layer by layer with the standard init and stay similar with the normalised one; "
                "Table 1, MNIST test error (%): Softsign 1.64, Tanh N 1.64, Softsign N 1.72, Tanh 1.76, Sigmoid 2.21 "
                "(N = normalised init)"
            ),
            "g2": (
                "He et al. 2015, sec. 2.2: for ReLU, E[h^2] is multiplied by n Var[w] / 2 per layer, so Xavier "
                "(n Var[w] = 1) halves it (ratio 0.5) and Var[w] = 2/n keeps it (1.0); Fig. 2: 22-layer conv net "
                "on ImageNet, both inits converge, He's reduces the error earlier; Fig. 3: 30-layer, Xavier "
                "stalls completely, He converges"
            ),
            "glorot_jacobian": {"tanh_standard": 0.5, "tanh_xavier_uniform": 0.8},
            "glorot_table1_mnist": {
                "softsign_standard": 1.64, "softsign_xavier_uniform": 1.72, "tanh_standard": 1.76,
                "tanh_xavier_uniform": 1.64, "sigmoid_standard": 2.21,
            },
            "glorot_table1_source": (
                "Glorot & Bengio 2010, Table 1, MNIST test error (%), 5 hidden layers of 1000 units, "
                "SGD minibatch 10 (N = normalised init)"
            ),
        },
    }
    overrides = {
        "smoke": {
            "profile.activations": ("tanh", "relu"),
            "profile.dataset": "digits",
            "profile.depth": 6,
            "profile.width": 32,
            "profile.extra_width": 16,
            "profile.n_examples": 64,
            "profile.seeds": 3,
            "gb.dataset": "digits",
            "gb.width": 32,
            "gb.n_examples": 64,
            "gb.jac_examples": 1,
            "gb.seeds": 3,
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
            "he.lr_extensions": 1,
            "he.seeds": 3,
        },
        "paper": {
            # Glorot & Bengio's widths (1000 units, 5 hidden layers; Table 1 on both data sets, 10x the steps),
            # He et al.'s depths at width 64 and 5000 steps; the 50-layer profile at 1000 units, N(0,1) also at 250
            "profile.width": 1000,
            "profile.extra_width": 250,
            "gb.width": 1000,
            "glorot.datasets": ("fashion_mnist", "digits"),
            "glorot.width": 1000,
            "glorot.steps": 5000,
            "glorot.log_every": 500,
            "he.width": 64,
            "he.steps": 5000,
        },
    }.get(preset, {})
    return kc.build(fields, overrides)
