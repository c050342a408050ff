#!/usr/bin/python3
"""Generates wilcox_reference.json: rank-sum test cases with reference values computed by
independent implementations, for tests/analysis/mann_whitney_test.cpp.

- R (Debian r-base-core): wilcox.test(canary, baseline, conf.int=TRUE, correct=TRUE,
  exact=FALSE) -> W, p-value, estimate, confidence interval.
- SciPy (Debian python3-scipy): mannwhitneyu(..., use_continuity=True, method="asymptotic",
  alternative="two-sided") -> U and p-value.
- NumPy: the Hodges-Lehmann estimate, the median of all pairwise differences.

Run with /usr/bin/python3 from this directory: ./generate_wilcox_reference.py
The vectors come from a fixed seed, so the output is reproducible.
"""
import json
import math
import subprocess
import tempfile

import numpy as np
from scipy.stats import mannwhitneyu

rng = np.random.RandomState(20261127)


def rounded(values, step):
    return [round(v / step) * step for v in values]


cases = [
    ("kayenta_reference", [10, 20, 30, 40], [1, 2, 3, 4], 0.95),
    ("identical_shape_shifted", [1, 2, 3, 4, 5], [2, 3, 4, 5, 6], 0.95),
    ("single_vs_many", [1], list(range(2, 61)), 0.95),
    ("many_vs_single", list(range(2, 61)), [1], 0.95),
    ("interleaved", [1, 3, 5, 7, 9, 11], [2, 4, 6, 8, 10, 12], 0.95),
]
for i in range(8):  # continuous samples with shifts, equal and unequal sizes
    nx, ny = [(60, 60), (30, 45), (10, 80), (5, 7), (60, 60), (20, 20), (100, 40), (3, 50)][i]
    shift = [0.0, 0.5, -1.0, 2.0, 0.1, -0.3, 0.05, 1.5][i]
    cases.append((f"normal_shift_{i}", list(rng.normal(100 + shift, 1, nx)),
                  list(rng.normal(100, 1, ny)), 0.95))
for i in range(6):  # latency-like data rounded to histogram steps: many ties
    nx, ny = [(60, 60), (40, 60), (12, 15), (60, 30), (25, 25), (8, 9)][i]
    cases.append((f"ties_lognormal_{i}",
                  rounded(rng.lognormal(3 + 0.1 * i, 0.4, nx), 5),
                  rounded(rng.lognormal(3, 0.4, ny), 5), [0.95, 0.9, 0.99, 0.95, 0.8, 0.95][i]))
for i in range(4):  # small integer counts: heavy ties
    cases.append((f"ties_poisson_{i}", [float(v) for v in rng.poisson(3 + i, 20 + 5 * i)],
                  [float(v) for v in rng.poisson(3, 25)], 0.95))
for i in range(4):  # NaNs in either sample (removed, as R removes them)
    x = list(rng.normal(10 + i * 0.5, 2, 30))
    y = list(rng.normal(10, 2, 30))
    for k in range(0, 30, 7 - i):
        (x if i % 2 == 0 else y)[k] = float("nan")
    cases.append((f"nan_{i}", x, y, 0.95))
cases.append(("error_rates_percent", [0.41, 0.52, 0.38, 0.61, 0.44, 0.90, 0.47, 0.55],
              [0.40, 0.39, 0.42, 0.37, 0.41, 0.44, 0.36, 0.40, 0.43, 0.38], 0.95))
cases.append(("negative_values", [-5.5, -3.2, -4.8, -1.0, -2.2], [-6.1, -5.9, -7.3, -4.4], 0.95))


def r_vector(values):
    return "c(" + ",".join("NaN" if math.isnan(v) else repr(float(v)) for v in values) + ")"


script = ["options(digits=17)"]
for name, x, y, conf in cases:
    script.append(
        f"r <- suppressWarnings(wilcox.test({r_vector(x)}, {r_vector(y)}, conf.int=TRUE, "
        f"conf.level={conf}, correct=TRUE, exact=FALSE)); "
        "cat(sprintf('%.17g %.17g %.17g %.17g %.17g\\n', r$statistic, r$p.value, r$estimate, "
        "r$conf.int[1], r$conf.int[2]))")
with tempfile.NamedTemporaryFile("w", suffix=".R") as rfile:
    rfile.write("\n".join(script) + "\n")
    rfile.flush()
    r_out = subprocess.run(["Rscript", rfile.name], check=True, capture_output=True,
                           text=True).stdout.split("\n")
r_version = subprocess.run(["Rscript", "-e", "cat(R.version.string)"], check=True,
                           capture_output=True, text=True).stdout

out = []
for (name, x, y, conf), line in zip(cases, r_out):
    w, p, est, lo, hi = (float(v) for v in line.split())
    fx = np.array([v for v in x if not math.isnan(v)])
    fy = np.array([v for v in y if not math.isnan(v)])
    sp = mannwhitneyu(fx, fy, use_continuity=True, alternative="two-sided", method="asymptotic")
    out.append({
        "name": name, "canary": [None if math.isnan(v) else v for v in x],
        "baseline": [None if math.isnan(v) else v for v in y], "confidence": conf,
        "r": {"W": w, "pValue": p, "estimate": est, "lower": lo, "upper": hi},
        "scipy": {"U": float(sp.statistic), "pValue": float(sp.pvalue)},
        "numpy": {"hodgesLehmann": float(np.median(np.subtract.outer(fx, fy)))},
    })

with open("wilcox_reference.json", "w") as f:
    json.dump({"generatedBy": "generate_wilcox_reference.py", "r": r_version,
               "scipy": __import__("scipy").__version__, "cases": out}, f, indent=1)
print(f"{len(out)} cases written with {r_version}")
