"""Config of experiments.zigzag (claims E1 zig-zag of all-positive inputs, E2 centring the data,
E3 sigmoid vs tanh, E4 mean activations), decision rules revision 2 (shared/DECISIONS.md).

Run:      python -m experiments.zigzag --config configs/zigzag.py:smoke
Runtime:  default ~60 s on 2 idle CPU cores (estimate: 116 CPU seconds / 2 with the compile cache off,
          measured on a loaded machine; 8 compiles, was 52; 1.2 TFLOP): 7 large programs, one trainer per
          input shape serving E2's arms and E3's activations through the kit's ``switch`` activation,
          two for E4 (He family with SELU as He x 1/sqrt 2; Glorot for tanh / sigmoid), one probe, one SGD
          path, one two-input neuron; smoke presets run in the test suite at XLA opt level 0.
Paper:    ``paper`` (run: 1,266 s wall on this 2-core machine with the tests running beside it, code at
          9f75136; results/paper/zigzag): E4 at Clevert et al.'s scale on the full Fashion-MNIST
          training set (60,000 examples, 8x128, SGD lr 0.01, batch 64, 9,375 steps = 10 epochs, 10 seeds,
          six activations: ~47 TFLOP) and E2/E3 at 3,000 steps with the documents' own [0,255] /
          [-127.5,127.5] pixels beside [0,1] (~16 TFLOP): ~63 TFLOP, ~20-25 min on 2 idle cores at the
          ~50 GFLOP/s these trainers reach there.
Expected: E1: with all-positive inputs every per-example weight gradient of a neuron is
          single-signed (exactly); with sigmoid outputs as inputs a fraction stays single-signed at
          any batch size (the inputs' common mean dominates the sum), with [0,1] pixels almost none;
          successive updates more aligned than with sigma(x)-1/2 at the same lr. E2: subtracting the
          per-feature mean speeds up SGD at each arm's tuned lr; the documents' half-range shift
          helps less (it does not make the mean zero). E3: sigmoid slower than tanh, mostly by slope.
          E4: ELU's unit means are below ReLU's in every layer but not within 0.1 std of zero.
"""

import numpy as np

from experiments.kit import config as kc

PAPER_RUNTIME = ("~20-25 min on 2 idle CPU cores (estimated: E4 at Clevert et al.'s scale, ~47 TFLOP, and E2/E3 at 3,000 steps with [0,255] / [-127.5,127.5] pixels, ~16 TFLOP, at ~50 GFLOP/s)")

# E4's init per activation is checked as an initialiser name where the experiment's domains apply.
DOMAINS = {"e4.init_by_activation.*": kc.names("initializer")}


def _grid(lo: float, hi: float, per_decade: int = 3) -> tuple[float, ...]:
    """Log-spaced learning rates 10**lo .. 10**hi, ``per_decade`` points per decade (R6: >= 3)."""
    n = round((hi - lo) * per_decade) + 1
    return tuple(float(f"{10.0**e:.4g}") for e in np.linspace(lo, hi, n))


def get_config(preset: str | None = None):
    preset = kc.preset_name(preset)
    fields = {
        "preset": preset,
        "seeds": 10,  # seeds 0..9: same init keys and data order in every condition (paired); R4: >= 10 where a number decides
        # The shared training set-up of E1 (trained weights), E2 and E3: an MLP on Fashion-MNIST.
        "n_train": 10000,  # Fashion-MNIST training subset (digits keeps all 1300)
        "n_test": 512,
        "widths": (32, 32),
        "init": "xavier_uniform",  # R6: Glorot for tanh, sigmoid and sigma(x)-1/2 (E2 and E3 train only these)
        "batch_size": 32,
        "steps": 300,
        "log_every": 15,
        "n_eval": 512,
        # R6: a best learning rate at the edge of the rates tried adds a block of as many rates beyond
        # that edge (same geometric step), at most lr_extensions times; a best still at an edge is flagged.
        "lr_extensions": 2,
        "censor_factor": 2.0,  # tuning only: an unreached run counts as censor_factor x steps when choosing the lr
        "e1": {
            "batch_sizes": (1, 8, 64, 512),  # DECISIONS.md E1 (b): batch 8/64/512 beside the exact batch 1
            "n_examples": 4096,  # examples whose per-example gradients are grouped into minibatches
            "max_batches": 64,  # minibatches per batch size and run
            # (b), (c): the all-positive inputs (sigmoid outputs) against their centred control sigma(x)-1/2,
            # the same function class (the next layer's bias absorbs the 1/2) at the same learning rate
            "positive_activation": "sigmoid",
            "centred_activation": "shifted_sigmoid",
            "reported_activation": "tanh",  # tables only
            "path_steps": 200,  # SGD steps at batch 1 whose successive updates are recorded
            # the two-input neuron y = w.x (no bias), squared error, optimum w* in quadrant IV
            "w_star": (2.0, -1.0),
            "x_range": (0.1, 1.0),  # positive inputs x ~ U(lo, hi)^2; centred = minus their mean
            "two_input_lr_scale": 0.5,  # lr = scale / mean |x|^2 of each input distribution (normalised step)
            "two_input_steps": 300,
            "two_input_batch_sizes": (1, 8),
            "two_input_n": 1000,
            "reach_tol": 0.05,  # "reached w*" when |w - w*| <= reach_tol * |w*|
        },
        "e2": {
            "datasets": ("fashion_mnist", "digits"),
            # Input arms: a kit scaling plus a shift by a fraction of the scaled inputs' range (max - min over the
            # training set). unit = [0,1] pixels (uncentred); centred = [0,1] minus each feature's training mean
            # (zero mean, DECISIONS.md E2); half_shift = [0,1] - 1/2, the documents' [-128,127] for [0,255] pixels
            # at the usual /255 scale (not zero-mean); raw / raw_half_shift = the documents' ranges themselves
            # ([0,255] and [-127.5,127.5] for Fashion-MNIST), run by the paper preset.
            "arms": {
                "unit": {"scaling": "unit", "shift_of_range": 0.0},
                "centred": {"scaling": "centred", "shift_of_range": 0.0},
                "half_shift": {"scaling": "unit", "shift_of_range": -0.5},
                "raw": {"scaling": "raw", "shift_of_range": 0.0},
                "raw_half_shift": {"scaling": "raw", "shift_of_range": -0.5},
            },
            "arm_names": ("unit", "centred", "half_shift"),  # the arms trained
            "comparisons": (("unit", "centred"), ("unit", "half_shift")),  # parts (a), (b) per data set
            "learning_rates": _grid(-4 / 3, 2 / 3),  # 0.046 .. 4.6, 3 per decade, extended at an edge (R6)
            "activation": "tanh",
            "targets": {"fashion_mnist": 0.7, "digits": 0.3},  # training cross-entropy to reach
            "shift": 3.0,  # LeCun et al. 1998: standardised inputs shifted by +3 (every feature)
        },
        "e3": {
            "dataset": "fashion_mnist",
            "activations": ("sigmoid", "tanh", "shifted_sigmoid"),  # add lecun_tanh for the table
            "learning_rates": _grid(-4 / 3, 2 / 3),
            "target": 0.7,
            # E3 decides from these three: uncentred vs centred, and the centred one with the same slope
            "uncentred_activation": "sigmoid",
            "centred_activation": "tanh",
            "centred_same_slope_activation": "shifted_sigmoid",
        },
        "e4": {
            # Clevert et al. 2016 scaled down: 8 x 128 fully connected, SGD lr 0.01 (theirs, for every
            # activation: the claim is about means, not speed), batch 64
            "dataset": "fashion_mnist",
            "activations": ("relu", "leaky_relu", "elu", "selu", "tanh", "sigmoid"),
            "depth": 8,
            "width": 128,
            # R6 customary inits; DECISIONS.md E4: SELU with LeCun normal
            "init_by_activation": {"relu": "he_normal", "leaky_relu": "he_normal", "elu": "he_normal",
                                   "selu": "lecun_normal", "tanh": "xavier_uniform", "sigmoid": "xavier_uniform"},
            "learning_rate": 0.01,
            "batch_size": 64,
            "steps": 150,
            "log_every": 15,
            # E4 decides from these two: unit means near zero (claimed) vs not (the baseline)
            "near_zero_activation": "elu",
            "baseline_activation": "relu",
        },
        "criteria": {
            # R8: evidence about training only from runs whose final train accuracy >= chance + learned_margin
            "learned_margin": 0.1,
            "e1": {
                # DECISIONS.md E1. Fractions of neurons per run are averaged over seeds, bootstrap 95% CI over
                # seeds (R2/R4; no t-interval on a proportion). Trained weights = E3's nets at their tuned lr
                # that learned (R8); at init in the tables and the statement.
                # (a) batch 1, per all-positive condition ([0,1] pixels, sigmoid outputs): CI >= exact_min
                "exact_min": 0.99,
                # (b) per batch size > 1: single-signed fraction, sigmoid outputs minus sigma(x)-1/2 outputs
                # (paired over seeds). CI >= minibatch_min: the lock carries over (most neurons still locked);
                # CI wholly in (minibatch_floor, minibatch_min): it carries over in part -> qualified;
                # CI <= minibatch_floor: no more locked than centred inputs -> refuted
                "minibatch_min": 0.5,
                "minibatch_floor": 0.0,
                # (c) SGD at batch 1, sigmoid vs sigma(x)-1/2 at the same lr (sigmoid's tuned lr / 32): path
                # length / displacement ratio (bootstrap CI of the ratio of means) > path_ratio_min, and
                # |cos| of successive updates, difference (paired bootstrap CI) > abs_cos_gap_min
                "path_ratio_min": 1.0,
                "abs_cos_gap_min": 0.0,
            },
            "e2": {
                # DECISIONS.md E2, per data set: (a) unit -> centred, (b) unit -> half_shift. Speed-up = geometric
                # mean over seeds of steps(uncentred) / steps(centred) at each arm's tuned lr, bootstrap 95% CI
                # of the mean log2 difference (paired). CI >= min_speedup: supported; wholly in
                # (speedup_floor, min_speedup): faster but by less -> qualified; CI <= speedup_floor: refuted.
                # More than censor_max_fraction of an arm's seeds censored (never reached the target): the
                # part is inconclusive (R7 as the E2 row sharpens it).
                "min_speedup": 1.2,
                "speedup_floor": 1.0,
                "censor_max_fraction": 0.2,
            },
            "e3": {
                # No DECISIONS.md row: R1-R12. Each activation at its own tuned lr, Glorot init (R6).
                # (a) sigmoid slower than tanh, (b) sigmoid slower than sigma(x)-1/2 (the centring effect):
                # speed-up CI (bootstrap, paired) > slower_min; (c) "because not centred": the centring
                # share of the log-steps gap, mean(log2 s_sig - log2 s_shift) / mean(log2 s_sig - log2 s_tanh),
                # bootstrap CI >= centring_share_min (centring the main reason). R7: > censor_bound_fraction
                # censored in an arm -> the speed-up is a bound (said which way; a part that the bound
                # cannot decide is inconclusive); > censor_both_fraction in both arms -> inconclusive.
                "slower_min": 1.0,
                "centring_share_min": 0.5,
                "censor_bound_fraction": 0.2,
                "censor_both_fraction": 0.5,
            },
            "e4": {
                # DECISIONS.md E4. Per layer and seed: |median over units of the unit's mean output| /
                # std of the layer's outputs (over examples and units), averaged over the hidden layers;
                # at init and after training (nets that learned, R8); bootstrap CI over seeds.
                # (a) ELU close to zero: CI <= close_max; (b) ReLU not: CI > close_max;
                # (c) ELU's |median unit mean| below ReLU's in every layer, at init and after training:
                # paired bootstrap CI of |ReLU| - |ELU| > below_margin in the least favourable layer.
                "close_max": 0.1,
                "below_margin": 0.0,
            },
        },
        "published": {
            "e1": "none published (a number); CS231n notes (Karpathy): the zig-zag is exact for one example, "
            "summing over a batch mitigates it",
            "e2": "LeCun, Bottou, Orr & Mueller 1998 (Efficient BackProp): inputs with mean m on d features add an "
            "eigenvalue ~ d*m^2 to the Hessian E[x x^T] of a linear model (no measured number); ours beside it "
            "in e2_spectrum. The earlier '33 -> 2096' had no traceable source and is dropped",
            "e3": "none published (a number); LeCun et al. 1998 recommend tanh-like, zero-centred units",
            "e4": "Clevert et al. 2016 (ICLR), Fig. 2a (MNIST, 8x128, SGD lr 0.01, batch 64): the median over "
            "units of the average unit activation during training, ELU's closest to zero of ReLU, LReLU, "
            "SReLU and ELU (shown as a figure; no value in the text to quote)",
        },
    }
    overrides = {
        "smoke": {
            "seeds": 3,
            "n_train": 2000,
            "n_test": 256,
            "widths": (16, 16),
            "steps": 60,
            "log_every": 15,
            "n_eval": 256,
            "lr_extensions": 1,
            "e1.batch_sizes": (1, 8, 64),
            "e1.n_examples": 512,
            "e1.max_batches": 16,
            "e1.path_steps": 40,
            "e1.two_input_steps": 100,
            "e1.two_input_batch_sizes": (1,),
            "e2.datasets": ("digits",),
            "e2.learning_rates": (0.1, 0.316, 1.0),
            "e2.targets.digits": 1.5,
            "e3.dataset": "digits",
            "e3.learning_rates": (0.1, 0.316, 1.0),
            "e3.target": 1.5,
            "e4.activations": ("relu", "elu", "tanh"),
            "e4.dataset": "digits",
            "e4.depth": 2,
            "e4.width": 16,
            "e4.steps": 30,
            "e4.log_every": 15,
        },
        "paper": {
            "n_train": 60000,
            "e2.arm_names": ("unit", "centred", "half_shift", "raw", "raw_half_shift"),
            "e2.comparisons": (("unit", "centred"), ("unit", "half_shift"), ("raw", "raw_half_shift")),
            "steps": 3000,
            "log_every": 75,
            "e4.steps": 9375,
            "e4.log_every": 375,
        },
    }.get(preset, {})
    return kc.build(fields, overrides)
