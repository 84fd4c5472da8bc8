"""livermet's exact federated survival analyses as a vantage6 algorithm.

vantage6 runs this package in a Docker image at every organisation's node (``Dockerfile``,
``PKG_NAME=v6_livermet``) and calls its functions by name:

- central functions, run on one node for the researcher's task: `central_km` (Kaplan-Meier
  overall and by group, median, RMST, log-rank), `central_logrank` (pooled or stratified by
  organisation), `central_cox` (Efron ties; common baseline or stratified by organisation),
  `central_cuminc` (Aalen-Johansen with competing risks);
- `partial`, run by the central functions' subtasks at every organisation: the organisation's
  aggregate for a livermet request (`livermet.federated.respond` on its cohort table).

The results equal the pooled analysis of all organisations' patients (``livermet.federated``).
"""

from v6_livermet.central import central_cox, central_cuminc, central_km, central_logrank
from v6_livermet.partial import partial

__all__ = ["central_cox", "central_cuminc", "central_km", "central_logrank", "partial"]
