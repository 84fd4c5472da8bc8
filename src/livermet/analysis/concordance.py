"""Harrell's concordance of a risk score with right-censored survival, as R's ``concordance``.

A pair (i, j) is comparable when i has the event and j is still followed after it: T_j > T_i,
or T_j = T_i with j censored (censoring at t happens after the events at t, R's convention).
Pairs of events at the same time (``tied.y``) are not comparable. The pair is concordant when
the patient who died first had the higher risk score, and a tie in the score counts one half:

    C = (concordant + tied_risk / 2) / (concordant + discordant + tied_risk).

This is ``coxph(...)$concordance["concordance"]`` (``concordancefit(..., reverse=TRUE,
timewt="n")``, R survival 3.5-3). Counting uses a Fenwick tree over the ranks of the score:
O(n log n), so registry-sized cohorts are fine.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["Concordance", "concordance", "concordance_of_counts"]


@dataclass(frozen=True)
class Concordance:
    """Counts of comparable pairs and the concordance index."""

    concordant: int
    discordant: int
    tied_risk: int
    tied_time: int
    concordance: float

    def to_dict(self) -> dict[str, float]:
        """Return the counts and the index as a plain dict."""
        return asdict(self)

    def __add__(self, other: Concordance) -> Concordance:
        """Return the counts of two strata together and their index (R's ``strata()``)."""
        return concordance_of_counts(
            self.concordant + other.concordant,
            self.discordant + other.discordant,
            self.tied_risk + other.tied_risk,
            self.tied_time + other.tied_time,
        )


def concordance_of_counts(
    concordant: int, discordant: int, tied_risk: int, tied_time: int
) -> Concordance:
    """Return the concordance index of pair counts (NaN when no pair is comparable)."""
    comparable = concordant + discordant + tied_risk
    c = (concordant + tied_risk / 2.0) / comparable if comparable else float("nan")
    return Concordance(concordant, discordant, tied_risk, tied_time, c)


class _Fenwick:
    """Counts per rank with prefix sums in O(log n)."""

    def __init__(self, size: int) -> None:
        self.tree = [0] * (size + 1)

    def add(self, rank: int) -> None:
        i = rank + 1
        tree = self.tree
        while i < len(tree):
            tree[i] += 1
            i += i & -i

    def below(self, rank: int) -> int:
        """Return how many added ranks are < ``rank``."""
        i, total, tree = rank, 0, self.tree
        while i > 0:
            total += tree[i]
            i -= i & -i
        return total


def concordance(time: Any, event: Any, risk: Any) -> Concordance:
    """Return the concordance index of ``risk`` with (time, event).

    A higher ``risk`` means the patient is expected to die sooner.
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float) > 0
    _, rank = np.unique(np.asarray(risk, dtype=float), return_inverse=True)
    rank = rank.astype(np.int64)
    # latest first; at equal times the censored come first so that events see them
    order = np.lexsort((e, -t))
    tree = _Fenwick(int(rank.max()) + 2 if rank.size else 1)
    inserted = 0
    concordant = discordant = tied_risk = tied_time = 0
    ts, es, rs = t[order].tolist(), e[order].tolist(), rank[order].tolist()
    i, n = 0, len(ts)
    while i < n:
        j = i
        while j < n and ts[j] == ts[i] and not es[j]:  # censored at this time
            tree.add(rs[j])
            j += 1
        inserted += j - i
        k = j
        while k < n and ts[k] == ts[i]:  # events at this time
            r = rs[k]
            below = tree.below(r)
            same = tree.below(r + 1) - below
            concordant += below
            tied_risk += same
            discordant += inserted - below - same
            k += 1
        d = k - j
        tied_time += d * (d - 1) // 2
        for m in range(j, k):
            tree.add(rs[m])
        inserted += d
        i = k
    return concordance_of_counts(concordant, discordant, tied_risk, tied_time)
