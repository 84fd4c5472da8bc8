"""The series an analysis uses: Table 1, the added series on request, and a user's own rows.

`livermet.evidence.dataset.with_own_series` adds a user's rows (CSV text) to Table 1; the web
page and the JSON API also offer the published series the project added to Table 1
(``source_set`` = ``added``, docs/evidence.md#dataset), used only on request.
"""

from __future__ import annotations

import pandas as pd

from livermet.errors import InputError
from livermet.evidence.dataset import OWN_SERIES_SOURCE, load_literature, with_own_series


def series_with_own(
    csv_text: str | None,
    *,
    include_added: bool = False,
    source: str = OWN_SERIES_SOURCE,
) -> pd.DataFrame:
    """Return the literature's series (the added ones on request) plus a user's own rows.

    Parameters
    ----------
    csv_text : str or None
        The user's series, CSV in the dataset's columns (validated by `with_own_series`).
    include_added : bool
        Also the added series, after Table 1 and before the user's rows.
    source : str
        The name the messages give the user's rows.

    Returns
    -------
    pandas.DataFrame
        Without ``include_added``, exactly `with_own_series` (Table 1 then the user's rows).

    Raises
    ------
    InputError
        As `with_own_series`; also field ``id`` when a user's series has the id of an added
        series that is included.
    """
    df = with_own_series(csv_text, source=source)
    if not include_added:
        return df
    literature = load_literature(include_added=True)
    table1 = set(load_literature()["id"])
    own = df[~df["id"].isin(table1)]
    clash = sorted(set(own["id"]) & set(literature["id"]))
    if clash:
        raise InputError(f"series id {', '.join(clash)} is in the literature already", "id")
    if own.empty:
        return literature.reset_index(drop=True)
    return pd.concat([literature, own], ignore_index=True)
