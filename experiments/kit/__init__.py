"""The shared machinery of every experiment (DESIGN.md, "Machinery").

Modules, one job each:

- ``config``   locked configs, presets and the validation of values by key name;
- ``data``     data sets (synthetic, digits, mnist1d, fashion_mnist), never downloaded;
- ``inits``    weight initialisers by name (naive, standard, Xavier, He, LeCun, orthogonal);
- ``models``   Flax linen MLP and CNN with activation/initialiser by name and per-layer probes;
- ``train``    ``lax.scan`` training loops, vmapped over a flat run axis (seeds x swept scalars);
- ``stats``    confidence intervals, paired tests, multiple-comparison corrections;
- ``theory``   mean-field signal propagation by Gauss-Hermite quadrature;
- ``verdicts`` the verdict record of the claims ledger;
- ``results``  the Result of a run and its atomic writing (CSV, Markdown, PNG, JSON);
- ``perf``     compile time, compile count and achieved FLOP/s;
- ``cli``      the thin ``python -m experiments.<name>`` entry point.
"""
