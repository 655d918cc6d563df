"""Config of experiments.scorecard: one activation scored beside a reference set (no claim verdicts).

Run:      python -m experiments.scorecard --config.activation=mypkg.acts:softclip[:softclip_prime]
          (or a registered name); writes results/scorecards/<activation, file-safe>/ and prints the card.
Runtime:  default cold (no compile cache) 214 CPU s, i.e. ~110 s on 2 idle cores by CPU s / 2 (109 compiles,
          compile 76-112 s); its wall time was 3.0-3.8 min at load 1-4, since compiles and quadrature use about
          one core; smoke ~35 CPU s.
Expected: the built-in references read as in the main experiments (the same measurement functions at the
          same settings): ReLU chi_1 = 1 at He, tanh's edge of chaos near sigma_w^2 = 1.76 at sigma_b^2 = 0.05,
          sigmoid not zero-centred and slowest to train, GELU a little dearer than ReLU alone.

Each section is one of the main experiments' measurements (experiments/scorecard/adapter.py):
``properties`` (acts.properties; the derivative against autodiff as experiments.derivatives compares
formulas), ``theory`` (kit.theory mean field), ``profile`` (experiments.vanishing's gradient profile at
Xavier and He, at the settings below; the critical init on its scan net), ``units`` (dead/stuck units
after SGD and the mean output at init, experiments.dead_relu's and zigzag's statistics at the kit level),
``training`` (experiments.convergence's populations at its own config: steps to a training-error threshold
and test accuracy at each activation's fastest stable learning rate), ``cost`` (experiments.cost's timings
at its own config).
Initialisation (DECISIONS.md R6): ``init_rule = "auto"`` gives every activation its customary
one: lecun_normal for SELU, xavier_normal for registered activations bounded on both sides (tanh,
sigmoid, softsign), he_normal for the other registered ones (the ReLU family); an activation of your own
gets the one of xavier_normal and he_normal whose mean-field chi_1 is nearer 1. Or name one initialiser.
"""

from experiments.kit import config as kc

THIRDS = (0.01, 0.0215, 0.0464, 0.1, 0.215, 0.464, 1.0)  # 3 points per decade (R6)
DEAD_LRS = (3.16e-4, 1e-3, 3.16e-3, 1e-2, 3.16e-2, 0.1, 0.316, 1.0, 3.16)  # experiments.dead_relu's grid

DOMAINS = {  # the keys the kit's table does not know (experiments.kit.domains)
    "references": kc.names("activation", seq=True),
    "init_rule": kc.names("initializer", extra=("auto",)),
    "search_lo": kc.positive(),
    "search_hi": kc.positive(),
    "seeds": kc.count(5),  # the card's CIs are over >= 5 seeds
}


def get_config(preset: str | None = None):
    preset = kc.preset_name(preset)
    fields = {
        "preset": preset,
        "activation": "examples.snake:snake:snake_prime",  # the activation scored: module:function[:derivative] or a name
        "references": ("relu", "tanh", "sigmoid", "gelu"),  # scored beside it
        "init_rule": "auto",  # "auto" (R6: customary per activation) or one initialiser name for all
        "seeds": 5,
        "parts": ("properties", "theory", "profile", "units", "training", "cost"),
        "derivative": {  # experiments.derivatives' grid and float32 tolerances
            "grid_lo": -30.0, "grid_hi": 30.0, "grid_n": 120001,
            "edges": (-30.0, -20.0, -1.0, -1e-3, -1e-7, 0.0, 1e-7, 1e-3, 1.0, 20.0, 30.0),
            "rtol": 1e-5, "atol": 1e-6,
        },
        "theory": {
            "xavier_sigma_w2": 1.0,  # Xavier on square layers: Var(W) = 1/fan_in
            "he_sigma_w2": 2.0,
            "sigma_b2": 0.05,  # the edge of chaos is sought at this bias variance (Schoenholz et al. 2017)
            "search_lo": 0.1, "search_hi": 1000.0, "search_points": 31,  # log grid of sigma_w^2, then bisection
            "correlation_points": 21,  # c in [-1, 1] for the map c -> c'
        },
        "profile": {  # experiments.vanishing's profile settings (its default: depth 50, width 128, batch 64)
            "dataset": "gaussian", "depth": 50, "width": 128, "batch_size": 64, "fit_skip": 5,
        },
        "units": {  # experiments.dead_relu's sweep: 3 x 128 MLP, SGD, dead = on the whole training set
            "dataset": "mnist1d", "n_train": 4096, "n_eval": 4096, "n_test": 1024,
            "width": 128, "depth": 3, "steps": 300, "batch_size": 64, "log_every": 100,
            "learning_rates": DEAD_LRS, "grad_tol": 1e-6,
            "learned_margin": 0.10,  # R8: a run learned when train accuracy >= chance + this
            # the mean output at init: experiments.zigzag's E4 statistic on its 8 x 128 MLP
            "centring_dataset": "fashion_mnist", "centring_depth": 8, "centring_width": 128, "centring_n_eval": 512,
        },
        "training": {  # experiments.convergence's populations at its own settings (its config at this preset)
            "datasets": ("digits", "fashion_mnist"),
            "learning_rates": THIRDS,  # a best at an edge: re-run on the grid centred there (R6)
            "censored_bound": 0.2,  # R7: more censored seeds than this make the mean a lower bound
        },
        "cost": {"reps": 9},  # experiments.cost's timings at its own settings; timing rounds (the CIs are over them)
    }
    overrides = {
        "smoke": {
            "references": ("relu",),
            "derivative.grid_n": 4001,
            "theory.search_points": 13, "theory.correlation_points": 9,
            "profile.depth": 10, "profile.width": 32, "profile.batch_size": 16, "profile.fit_skip": 2,
            "units.dataset": "digits", "units.n_train": 512, "units.n_eval": 512, "units.n_test": 256,
            "units.width": 32, "units.steps": 60, "units.log_every": 20, "units.batch_size": 32,
            "units.learning_rates": (1e-2, 0.316, 3.16),
            "units.centring_dataset": "digits", "units.centring_depth": 3, "units.centring_width": 32,
            "units.centring_n_eval": 128,
            "training.datasets": ("digits",), "training.learning_rates": (0.1, 0.316, 1.0),
            "cost.reps": 3,
        },
    }.get(preset, {})
    return kc.build(fields, overrides)
