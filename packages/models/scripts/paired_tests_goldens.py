#!/usr/bin/env python3
"""Goldens for McNemar's and DeLong's tests (packages/models/test/metrics/paired-tests.test.ts).

Plain Python (no numpy/scipy), computed by the definitions rather than the TypeScript's shortcuts:
McNemar from exact binomial fractions; DeLong's structural components from the pairwise kernel
psi(x, y) over every positive-negative pair (not from midranks), covariances by their sums, and the
normal tail from math.erfc. Writes the JSON the test reads:

    /usr/bin/python3 packages/models/scripts/paired_tests_goldens.py > packages/models/test/metrics/paired-tests-goldens.json
"""
import json
import math
from fractions import Fraction


def mcnemar(b, c):
    n, k = b + c, min(b, c)
    if n == 0:
        return {"b": b, "c": c, "exactP": 1.0, "midP": 1.0}
    pmf = lambda i: Fraction(math.comb(n, i), 2 ** n)
    tail = sum(pmf(i) for i in range(k + 1))
    return {"b": b, "c": c, "exactP": float(min(1, 2 * tail)), "midP": float(min(1, 2 * tail - pmf(k)))}


def psi(x, y):
    return 1.0 if x > y else 0.5 if x == y else 0.0


def cov(a, b):
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    return sum((x - ma) * (y - mb) for x, y in zip(a, b)) / (len(a) - 1)


def parts(labels, scores):
    pos = [s for l, s in zip(labels, scores) if l == 1]
    neg = [s for l, s in zip(labels, scores) if l == 0]
    v10 = [sum(psi(x, y) for y in neg) / len(neg) for x in pos]
    v01 = [sum(psi(x, y) for x in pos) / len(pos) for y in neg]
    return sum(v10) / len(v10), v10, v01


def delong(labels, a, b):
    auc_a, a10, a01 = parts(labels, a)
    auc_b, b10, b01 = parts(labels, b)
    m, n = len(a10), len(a01)
    var = (cov(a10, a10) + cov(b10, b10) - 2 * cov(a10, b10)) / m + (cov(a01, a01) + cov(b01, b01) - 2 * cov(a01, b01)) / n
    se = math.sqrt(var)
    z = (auc_a - auc_b) / se
    se_a = math.sqrt(cov(a10, a10) / m + cov(a01, a01) / n)
    return {"aucA": auc_a, "aucB": auc_b, "seA": se_a, "se": se, "z": z, "p": math.erfc(abs(z) / math.sqrt(2))}


def lcg(seed):
    state = seed
    while True:
        state = (1103515245 * state + 12345) % 2 ** 31
        yield state / 2 ** 31


def case(n, seed):
    """n cases; scores with ties (rounded to 2 decimals); B is A plus noise."""
    r = lcg(seed)
    labels = [1 if next(r) < 0.45 else 0 for _ in range(n)]
    a = [round(min(1, max(0, 0.5 + (0.25 if l else -0.25) + (next(r) - 0.5) * 0.9)), 2) for l in labels]
    b = [round(min(1, max(0, x + (next(r) - 0.5) * 0.6)), 2) for x in a]
    return {"labels": labels, "a": a, "b": b, **delong(labels, a, b)}


print(json.dumps({
    "mcnemar": [mcnemar(b, c) for b, c in [(2, 8), (0, 0), (5, 5), (0, 7), (13, 4), (40, 61), (300, 250)]],
    "delong": [case(30, 7), case(120, 11)],
}))
