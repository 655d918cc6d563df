"""Config of experiments.convergence (claims H1, H3, H4, F5, C4, C5), decision rules revision 2 (shared/DECISIONS.md).

Run:      python -m experiments.convergence --config configs/convergence.py:smoke
Runtime:  default ~90 s on 2 idle CPU cores (two runs on a quiet machine, compile cache off: 87-96 s for the process,
          124-137 CPU s; the run itself 83-92 s = compile 14-15 s in 9 compiles (revision 1: 47) + execute 66-73 s,
          3.2 TFLOP; on a loaded machine 205 CPU s); smoke ~15 CPU s, 5 compiles (revision 1: 15).
Paper:    ``paper`` (run: 613 s wall on this 2-core machine, 13 programs, 4 of them from the compile cache;
          results/paper/convergence):
          wider MLPs (64 x 3), 1,000 steps, Fashion-MNIST 5,000 training images, mnist1d
          added, the extra activations on every data set, the CNN on every data set for 1,000 steps, H4 on 256 / 1,024
          images: ~35 TFLOP (per-run FLOPs x the default's rates per arm), estimated ~1,200 CPU s, i.e. 10-15 min on 2
          idle cores (6 compiles of programs).
Expected: sigmoid needs more steps than ReLU (He init) to the training-error threshold; tanh (Glorot) is
          about as fast as ReLU or faster at this scale; Leaky/ELU/PReLU within about a point of ReLU's
          test accuracy; bounded activations still *train* at larger learning rates than unbounded ones.

Protocol (DECISIONS.md R6-R8). Every arm (model, data set, activation, init) is trained for every seed at
learning rates on one log grid, 10**(k / lr_grid.per_decade): first the window ``learning_rates``, then a
block of ``per_decade`` rates beyond an edge wherever a best rate lies at the edge of the rates tried (or,
for C5, wherever the largest rate tried still trains), at most ``lr_grid.max_blocks`` blocks, within
[lr_grid.lowest, lr_grid.highest]; a best still at an edge is flagged (``best_at_edge``). Each arm has its
own best learning rate for each use: *speed* (H1, H3 (a), C4): the fewest median steps to the threshold
among rates where no seed diverged and at most criteria.censoring.bound_fraction of seeds are censored
(else the fewest censored); *validation* (F5, H3 (b), H4): the highest mean accuracy on ``n_val`` held-out
training images, then the test accuracy at that rate is compared; *loss* (C5): the lowest mean final
training loss among rates where >= criteria.c5.min_train_fraction of the seeds train. Inits are each
activation's customary one (``customary_init``: He for the ReLU family, Glorot/Xavier for tanh, sigmoid,
softsign, LeCun normal for SELU), except C4, which is about the init. SGD with momentum, no regularisation.
One compiled program per model structure (MLP per data set, CNN per data set): the activation is a traced
branch index (one per call), seeds x learning rates (x init) are vmapped, a smaller training set (H4) is the
first rows of the same one.
"""

from experiments.kit import config as kc

PAPER_RUNTIME = ("613 s wall measured on 2 CPU cores (estimated beforehand: 10-15 min, ~35 TFLOP, ~1,200 CPU s)")

DOMAINS = {
    "h4.variants": kc.names("activation", seq=True, extra=("leaky_relu_big",)),
    "extra.datasets": kc.names("dataset", seq=True, empty_ok=True),
    "extra.activations": kc.names("activation", seq=True, empty_ok=True),
    "customary_init.*": kc.names("initializer"),
    "h4.train_sizes.*": kc.count(),
    "cnn.stem.*": kc.count(0),
    "lr_grid.per_decade": kc.count(3),  # R6: >= 3 points per decade
    "lr_grid.max_blocks": kc.count(),
    "lr_grid.lowest": kc.positive(),
    "lr_grid.highest": kc.positive(),
    "n_val.*": kc.count(),
}

THIRDS = (0.01, 0.0215, 0.0464, 0.1, 0.215, 0.464)  # 10**(k/3), k = -6..-1: the first window of every MLP arm


def get_config(preset: str | None = None):
    preset = kc.preset_name(preset)
    fields = {
        "preset": preset,
        "seeds": 10,  # R4: >= 10 where a number decides; seeds 0..9 in every arm (same init draw and data order)
        # F5, H3 (b), H4: the compared arms at their best validation rate (picked on the first ``seeds``) get this
        # many seeds: test-accuracy differences vary by ~1-1.5 pp per seed, so 10 seeds give a CI of ~+-1 pp,
        # too wide to resolve the +-0.5 pp margins of R9 (added after the first default run showed it)
        "accuracy_seeds": 30,
        "optimizer": "momentum",
        "momentum": 0.9,
        "batch_size": 32,
        "steps": 300,
        "log_every": 10,  # the resolution of steps to the threshold
        "n_eval": 256,  # training images the training error and loss are measured on at every log point
        "n_val": {"digits": 300, "fashion_mnist": 1000, "mnist1d": 1000},  # held out of the training pool (picks lrs)
        "n_test": 1000,  # test images (digits: its 497)
        "fashion_n_train": 2000,  # Fashion-MNIST is SUBSAMPLED to this many training images
        "learning_rates": THIRDS,  # the first window of every MLP arm (R6: 3 per decade, extended at an edge)
        "lr_grid": {"per_decade": 3, "lowest": 1e-4, "highest": 100.0, "max_blocks": 6},
        "baseline": "relu",  # every comparison is against it (H1, H3, H4, F5)
        "customary_init": {  # R6
            **dict.fromkeys(("relu", "leaky_relu", "leaky_relu_big", "prelu", "rrelu", "elu", "swish", "gelu", "mish"),
                            "he_normal"),
            **dict.fromkeys(("tanh", "sigmoid", "softsign"), "xavier_normal"),
            "selu": "lecun_normal",
        },
        "mlp_widths": (32, 32, 32),
        # the MLP grid: every activation on every data set (H1, H3, F5, C5)
        "grid": {
            "datasets": ("digits", "fashion_mnist"),
            "activations": ("relu", "tanh", "sigmoid", "softsign", "leaky_relu", "elu", "prelu"),
        },
        # reported beside (tables only, no verdict reads them): none in the default (budget), four in the paper preset
        "extra": {"datasets": ("digits",), "activations": ()},
        "leaky_alpha": 0.01,
        "leaky_big_alpha": 1 / 5.5,
        # H1's CNN: [stem: a stride-s s x s conv] -> 3x3 convs with 2x max pooling -> dense -> read-out
        "cnn": {
            "datasets": ("fashion_mnist",),
            "activations": ("relu", "tanh", "sigmoid"),
            "stem": {"digits": 0, "fashion_mnist": 4, "mnist1d": 0},  # 0: no stem
            "stem_width": 8,  # channels of the stem
            "channels": (16,),
            "dense_widths": (32,),
            "steps": 300,
            "log_every": 20,  # coarser than the MLP's: each evaluation of the CNN costs a quarter of a training step's 20
        },
        # H4: small training sets (the first train_sizes images of each grid data set's training set)
        "h4": {
            "datasets": ("digits", "fashion_mnist"),
            "train_sizes": {"digits": 128, "fashion_mnist": 256},  # a divisor of n_eval: the whole set is evaluated
            "variants": ("relu", "rrelu", "leaky_relu", "leaky_relu_big", "prelu"),  # leaky_relu_big: slope 1/5.5
            "rrelu_lower": 3.0,
            "rrelu_upper": 8.0,
            "activation": "rrelu",  # the claimed regulariser, compared with the baseline
            # seeds of the two compared arms at their best validation rates (R1, a cheap larger budget: at 30 seeds
            # fashion_mnist_256 gave +0.23 [-0.31, +0.77] pp, which neither the +-0.5 pp margin nor 0 could decide)
            "seeds": 100,
        },
        "h3": {"activation": "prelu"},  # learned slopes, compared with the baseline
        # C4: small initial weights N(0, (0.01 x scale)^2) against the same activation from reference_init
        "c4": {
            "dataset": "digits",
            "activations": ("tanh", "sigmoid", "relu"),
            "init": "small_normal",
            "weight_scales": (1.0, 10.0),  # std 0.01 and 0.1 (DECISIONS.md C4)
            "reference_init": "xavier_normal",
        },
        "criteria": {
            # training-error thresholds (fraction misclassified on the n_eval training images): H1, H3 (a)
            "threshold": {"digits": 0.05, "fashion_mnist": 0.2, "mnist1d": 0.5},
            # R7: an arm with more censored seeds than bound_fraction makes a ratio a bound (which way is
            # recorded); more than both_fraction in both arms of a part -> inconclusive
            "censoring": {"bound_fraction": 0.2, "both_fraction": 0.5},
            # R8: a run learned when its final train accuracy >= chance + accuracy_margin; C5 row: a run
            # *trains* when its final training loss < loss_fraction x its initial loss
            "trained": {"accuracy_margin": 0.1, "loss_fraction": 0.5},
            # H1 row: step ratio activation/ReLU per (model, data set): supported if CI lo > min_ratio ("much
            # faster"), qualified if CI lo > as_fast, refuted if CI hi <= as_fast, else inconclusive
            "h1": {"activations": ("sigmoid", "tanh"), "min_ratio": 1.5, "as_fast": 1.0},
            # H3 row: (a) ReLU/PReLU step ratio CI > min_speedup; (b) PReLU - ReLU test accuracy CI > min_gain_pp
            "h3": {"confidence": 0.95, "min_speedup": 1.0, "min_gain_pp": 0.0},
            # H4 row: only where ReLU overfits (gap CI lo >= min_gap_pp); RReLU - ReLU test accuracy: supported
            # if CI lo > min_gain_pp, refuted if CI hi < min_gain_pp or the 90% CI lies within +-margin_pp (R9:
            # TOST at 5%; 0.5 pp is the smallest gain the claim's "regulariser" would matter at: Xu et al.'s
            # RReLU gains are 1-2 pp)
            "h4": {"min_gap_pp": 10.0, "margin_pp": 0.5, "min_gain_pp": 0.0},
            # F5 row: named rivals only, each at its best lr, per data set; Holm over the named comparisons
            # (alpha); better: Holm-adjusted one-sided p < alpha for rival - ReLU > 0; not better: Holm-adjusted
            # p < alpha for rival - ReLU < +margin_pp (the upper test of TOST; margin from the F5 row)
            "f5": {"named": ("leaky_relu", "elu"), "margin_pp": 0.5, "alpha": 0.05},
            # C4 row: steps to the loss the reference-init run reaches at target_step_fraction x steps (its median
            # over seeds at its fastest rate), from small init over from the reference init; efficient if the
            # ratio CI hi <= max_ratio. Parts: efficient (f ~ x) and inefficient activations; relu reported
            "c4": {"efficient": ("tanh",), "inefficient": ("sigmoid",), "max_ratio": 1.5,
                   "target_step_fraction": 1 / 3},
            # C5 row, named sets fixed before running; (a) log10 of the largest lr at which >= min_train_fraction
            # of seeds train, bounded over unbounded, CI lo >= min_lr_decades for every pair; (b) final
            # training loss at each one's best lr, bounded - unbounded (paired) CI lo > min_loss_gap; (c) log10 of
            # the best lr, bounded over unbounded, CI lo >= min_lr_decades
            "c5": {"bounded": ("sigmoid", "tanh", "softsign"), "unbounded": ("relu", "leaky_relu", "elu"),
                   "min_train_fraction": 0.8, "min_lr_decades": 0.0, "min_loss_gap": 0.0},
        },
        "published": {  # R11
            "h1": "Krizhevsky et al. 2012, Fig. 1: a 4-layer CNN on CIFAR-10 reaches 25% training error 6x faster "
            "with ReLU than with tanh (step ratio tanh/ReLU = 6)",
            "h1_ratio": 6.0,
            "h3": "He et al. 2015: PReLU over ReLU +1.2 pp top-1 accuracy (14-layer model A, ImageNet) and +1.05 pp "
            "(the large model); the documents quote +1.03 pp",
            "h3_gain_pp": (1.2, 1.05, 1.03),
            "h4": "Xu et al. 2015: RReLU a ~ U(3, 8) 75.68% test accuracy on CIFAR-100 (single model, no ensemble) "
            "and the winning NDSB entry (a small data set); no RReLU - ReLU difference on a set where ReLU overfits",
            "f5": "Clevert et al. 2015: CIFAR-100 test error ELU 28.75% vs ReLU 31.56% (ELU +2.81 pp accuracy); "
            "Xu et al. 2015: Leaky/very leaky ReLU lower test error than ReLU on CIFAR-10 and CIFAR-100 (NIN)",
            "f5_elu_gain_pp": 2.81,
            "c4": "none published",
            "c5": "none published",
        },
    }
    overrides = {
        "smoke": {
            "seeds": 2,
            "accuracy_seeds": 3,
            "steps": 60,
            "log_every": 10,
            "n_eval": 128,
            "n_val": {"digits": 200, "fashion_mnist": 200, "mnist1d": 200},
            "n_test": 256,
            "learning_rates": (0.1, 0.215, 0.464),
            "lr_grid.max_blocks": 2,
            "mlp_widths": (16, 16),
            "grid.datasets": ("digits",),
            "grid.activations": ("relu", "tanh", "sigmoid", "leaky_relu", "elu", "prelu"),
            "extra.activations": ("softsign",),
            "cnn.datasets": (),
            "h4.datasets": ("digits",),
            "h4.train_sizes": {"digits": 64, "fashion_mnist": 128},
            "h4.variants": ("relu", "rrelu"),
            "h4.seeds": 3,
            "c4.activations": ("tanh", "sigmoid"),
            "c4.weight_scales": (10.0,),
            "criteria.threshold.digits": 0.3,
        },
        "paper": {
            "steps": 1000,
            "log_every": 20,
            "n_eval": 1024,
            "fashion_n_train": 5000,
            "mlp_widths": (64, 64, 64),
            "grid.datasets": ("digits", "mnist1d", "fashion_mnist"),
            "extra.datasets": ("digits", "mnist1d", "fashion_mnist"),
            "extra.activations": ("swish", "selu", "gelu", "mish"),
            "cnn.datasets": ("digits", "mnist1d", "fashion_mnist"),
            "cnn.steps": 1000,
            "cnn.log_every": 20,
            "h4.datasets": ("digits", "fashion_mnist"),
            "h4.train_sizes": {"digits": 256, "fashion_mnist": 1024},
            "h4.seeds": 30,  # as results/paper/convergence was run
        },
    }.get(preset, {})
    return kc.build(fields, overrides)
