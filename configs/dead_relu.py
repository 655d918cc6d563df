"""Config of experiments.dead_relu (claims F1, F2, F3, F4, G3).

Run:      python -m experiments.dead_relu --config configs/dead_relu.py:smoke
Runtime:  default ~75 s on 2 idle CPU cores, estimated from CPU seconds (~125 CPU-s with the compile cache off;
          5 real compiles: one trainer per data set, G3's born-dead table, |x| init and |x| fit; ~2.8 TFLOP of
          training); smoke ~10 s of compiling at the tests' fast-compile level. paper (20 decide seeds, 1000 steps,
          4000 training examples, G3 5000 draws and 10,000 fit steps): ~12 TFLOP of training, estimated ~5 min on 2
          idle cores; run: 569 s wall on this 2-core machine, code at 7aa069f (results/paper/dead_relu).
Expected: in nets that learn (R8), plain SGD at its edge lr leaves ~10% of ReLU units dead on mnist1d and ~0 on
          Fashion-MNIST (whose nets diverge first), and most units dead at a check are alive again later; Adagrad,
          momentum and Adam at high lr kill more (up to ~60% with Adam); born-dead units are rare in wide MLPs
          (< 0.1%) and common in deep narrow nets, within Lu et al.'s bound.

Two stages per arm (an arm = data set x optimiser x init, ReLU):
- *locate*: ``locate_seeds`` seeds on the arm's lr grid (>= 3 points per decade around its best and
  dense near divergence, R6); it picks the arm's *best* lr (highest mean final train accuracy,
  diverged runs at chance), its *edge* lr (the largest lr at which >= ``criteria.learned_share`` of
  the seeds learn, R8) and its *low* lr (the smallest such lr);
- *decide*: ``decide_seeds`` NEW seeds at the picked lrs (and at ``f3.lr_factors`` x best for F3(a));
  every verdict reads these runs only, so the lrs are not chosen on the seeds that decide.
Leaky ReLU / PReLU / ELU are trained in the decide stage one grid step below the edge lr of the
``f4_optimizers`` He arms (high lrs at which nets learn with a margin; at the edge itself the new
seeds may not learn), on the same seeds and init draws as ReLU (claim F4).

Definitions: a unit is *dead* (ReLU) or *stuck* (the leaky variants) at a check when its
pre-activation is <= 0 on every example of the WHOLE training set (both data sets subsampled to
``n_train`` examples); checks at step 0 and every ``log_every`` steps (``steps / log_every`` >= 10
checks, DECISIONS.md F1); *permanently dead* = dead at each of the last ``criteria.f1.last_checks``
checks (the dead fraction every claim uses); revival = dead at a check and alive at a later one,
counted over units (unit-weighted, F1(b)). A run *learned* when its final train accuracy is >=
chance + ``criteria.chance_margin`` (R8); otherwise it is *collapsed*, or *diverged* when its loss or
parameters went non-finite.
"""

from experiments.kit import config as kc

PAPER_RUNTIME = ("~5 min on 2 idle CPU cores (estimated from FLOPs: 20 decide seeds, 1000 steps, 4000 training examples, G3 5000 draws and 10,000 fit steps, ~12 TFLOP of training)")

SGD_HE = (0.01, 0.1, 0.178, 0.316, 0.562, 1.0, 1.15, 1.33, 1.78, 3.16)
SGD_XAVIER = (0.01, 0.1, 0.316, 0.562, 1.0, 1.33, 1.78, 2.37, 3.16)
SGD_NORMAL = (3.16e-4, 1e-3, 1.78e-3, 3.16e-3, 5.62e-3, 0.01, 0.0178, 0.0316)
SGD_SMALL = (0.316, 1.0, 1.78, 3.16)
ADAGRAD = (0.01, 0.0562, 0.1, 0.178, 0.316, 0.422, 0.562, 0.75, 1.0)
ADAM = (3.16e-4, 1.78e-3, 3.16e-3, 5.62e-3, 0.0178, 0.0316, 0.0562, 0.075, 0.1)
MOMENTUM = (3.16e-3, 0.0178, 0.0316, 0.0562, 0.178, 0.237, 0.316, 0.562)
FASHION_SGD_HE = (0.01, 0.1, 0.178, 0.237, 0.316, 0.422)

DOMAINS = {  # the keys the kit's table does not know (experiments.kit.domains)
    "locate_seeds": kc.count(), "decide_seeds": kc.count(), "chunk": kc.count(),
    "roles.variants": kc.names("activation", seq=True), "roles.f4_optimizers": kc.names("optimizer", seq=True),
    "roles.f1_apart": kc.names("optimizer", seq=True, empty_ok=True),
    "criteria.min_learned": kc.count(), "criteria.f1.last_checks": kc.count(),
    "criteria.f3.lr_factors": kc.positive(seq=True), "criteria.f3.min_drop": kc.fraction(),
    "criteria.f4.max_stuck": kc.fraction(), "criteria.g3.min_gap": kc.fraction(), "criteria.g3.min_expected": kc.count(),
}


def _arm(dataset, optimizer, init, lrs):
    return {"dataset": dataset, "optimizer": optimizer, "init": init, "learning_rates": lrs}


def get_config(preset: str | None = None):
    preset = kc.preset_name(preset)
    fields = {
        "preset": preset,
        "locate_seeds": 3,
        "decide_seeds": 10,
        "n_train": 2048,
        "width": 128,
        "depth": 3,
        "steps": 300,
        "batch_size": 64,
        "log_every": 30,
        "chunk": 10,  # runs per call of the one compiled trainer of a data set
        # ReLU arms (one compile per data set: inits, optimisers and lrs are array arguments).
        "arms": {
            "mnist1d_sgd_he": _arm("mnist1d", "sgd", "he_normal", SGD_HE),
            "mnist1d_sgd_xavier": _arm("mnist1d", "sgd", "xavier_uniform", SGD_XAVIER),
            "mnist1d_sgd_normal": _arm("mnist1d", "sgd", "normal", SGD_NORMAL),
            "mnist1d_sgd_small": _arm("mnist1d", "sgd", "small_normal", SGD_SMALL),
            "mnist1d_adagrad_he": _arm("mnist1d", "adagrad", "he_normal", ADAGRAD),
            "mnist1d_adam_he": _arm("mnist1d", "adam", "he_normal", ADAM),
            "mnist1d_momentum_he": _arm("mnist1d", "momentum", "he_normal", MOMENTUM),
            "fashion_sgd_he": _arm("fashion_mnist", "sgd", "he_normal", FASHION_SGD_HE),
        },
        # The roles that activations, optimisers, inits and data sets play in the verdicts.
        "roles": {
            "activation": "relu",  # the activation whose units die (F1, F2, F3, G3; F4's reference)
            "optimizer": "sgd",  # plain SGD: F1(b), F2, F3's baseline, G3(b)
            "init": "he_normal",  # the customary init of the ReLU family (R6): F1, F3(a), F3(c), F4, G3(b)
            "xavier_init": "xavier_uniform",  # F3(b): Xavier vs each naive init
            "naive_inits": ("normal", "small_normal"),  # F3(b); F2 reports them apart
            "f2_inits": ("he_normal", "xavier_uniform"),  # F2: "with He/Xavier init"
            "remedy_optimizer": "adagrad",  # F3(c)
            "f1_apart": ("momentum", "adam"),  # F1 row: reported apart (they move zero-gradient weights by construction)
            "f3_dataset": "mnist1d",
            "variants": ("leaky_relu", "prelu", "elu"),  # F4
            "f4_dataset": "mnist1d",
            "f4_optimizers": ("sgd", "adam"),  # F4's cells: these He arms one grid step below their edge lr
        },
        "g3": {
            "widths": (2, 3, 5, 10, 20),
            "max_depth": 50,
            "n_init": 1000,
            "n_points": 65,  # zero biases, 1-D input: every unit is x*h(1) or |x|*h(-1), so any grid with both signs is exact
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
        # Thresholds of DECISIONS.md revision 2 (rows F1-F4, G3; R3, R4, R8), fixed before the run.
        "criteria": {
            "chance_margin": 0.10,  # R8: a run learned when its final train accuracy >= chance + 0.10
            "learned_share": 0.8,  # a lr trains when >= 80% of its locate seeds learn (edge/low lr; C5's 80%)
            "min_learned": 5,  # a part needs >= 5 learned decide seeds (of 10), else inconclusive (R8)
            "confidence": 0.95,  # CIs: bootstrap over seeds for fractions, t for paired differences (R4)
            # F1 row: >= 10 checks; permanently dead = dead at each of the last 3; (a) dead fraction >= 0.05
            # in nets that learn; (b) under SGD unit-weighted revival <= 0.10.
            "f1": {"min_dead": 0.05, "max_revival": 0.10, "last_checks": 3},
            # F2 row: (a) born-dead fraction with He/Xavier <= 0.01 over independent draws; (b) edge minus
            # low lr >= 0.10 (paired), nets that learn.
            "f2": {"max_born_dead": 0.01, "min_lr_effect": 0.10},
            # F3 row: a remedy works if the dead fraction drops by >= 0.05 (paired CI); "3x" is the grid's
            # half decade (3.16x); the family of comparisons is corrected for multiplicity: Bonferroni
            # intervals at 1 - alpha/m (single-step Holm; interval decisions, R3, need one level per part).
            "f3": {"min_drop": 0.05, "lr_factors": (3.16, 10.0), "family_alpha": 0.05},
            # F4 row: stuck CI hi <= 0.01 in every cell where ReLU's dead fraction >= 0.05 (CI lo).
            "f4": {"max_stuck": 0.01, "relu_min_dead": 0.05},
            # G3 row: (a) P(born dead) within Lu et al.'s bound at every width and depth where a proportion
            # at the bound is testable with n_init draws (n*bound >= 5 and n*(1 - bound) >= 5, the usual rule
            # for a binomial interval); (b) dead after high-lr training minus at init > 0 (paired).
            "g3": {"min_expected": 5, "min_gap": 0.0},
        },
        "published": {
            "cs231n_dead_fraction": 0.40,
            "cs231n": "CS231n notes (Karpathy): with too high a learning rate 'as much as 40% of your network can "
            "be dead' (no model, data set or optimiser stated)",
            "lu_bound_depth10": {"w2": 0.925, "w3": 0.70, "w5": 0.25, "w10": 0.009},
            "lu_collapse_fraction": 0.90,
            "lu": "Lu et al. 2019 (Dying ReLU and initialization): P(born dead) <= 1 - prod_{l<L}(1 - 2^-N_l) "
            "(the bound, evaluated: 0.925/0.70/0.25/0.009 at depth 10, widths 2/3/5/10); a width-2 depth-10 net "
            "fit to |x| collapses to a constant in more than 90% of 1,000 runs",
            "f1": "CS231n notes: 'as much as 40% of your network can be dead' with too high a learning rate",
            "f2": "none published (CS231n names the two causes without numbers)",
            "f3": "none published",
            "f4": "none published",
        },
    }
    smoke_arms = {
        "mnist1d_sgd_he": _arm("mnist1d", "sgd", "he_normal", (0.1, 0.316, 1.0, 3.16)),
        "mnist1d_sgd_xavier": _arm("mnist1d", "sgd", "xavier_uniform", (0.1, 1.0)),
        "mnist1d_sgd_normal": _arm("mnist1d", "sgd", "normal", (1e-3, 0.01)),
        "mnist1d_sgd_small": _arm("mnist1d", "sgd", "small_normal", (1.0,)),
        "mnist1d_adagrad_he": _arm("mnist1d", "adagrad", "he_normal", (0.1, 1.0)),
        "mnist1d_adam_he": _arm("mnist1d", "adam", "he_normal", (3.16e-3, 0.0316)),
    }
    overrides = {
        "smoke": {
            "locate_seeds": 2, "decide_seeds": 3, "n_train": 256, "width": 16, "steps": 40, "log_every": 10,
            "batch_size": 32, "chunk": 8, "arms": smoke_arms, "criteria.min_learned": 1,
            "g3.widths": (2, 3), "g3.max_depth": 12, "g3.n_init": 300, "g3.n_points": 65,
            "g3.fit_nets": 200, "g3.fit_steps": 300,
        },
        "paper": {
            "decide_seeds": 20, "steps": 1000, "log_every": 100, "n_train": 4000, "g3.n_init": 5000, "g3.fit_steps": 10000,
        },
    }.get(preset, {})
    return kc.build(fields, overrides)
