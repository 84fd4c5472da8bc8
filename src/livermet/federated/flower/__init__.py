"""Run livermet's federated analyses on Flower (``flwr``): SuperNodes at the sites, a ServerApp.

Each hospital runs a Flower SuperNode whose ClientApp (`.client_app`) reads the hospital's own
livermet registry (node configuration ``registry``, ``user``) and answers the coordinator's
requests with `livermet.federated.respond`; the coordinator runs the ServerApp (`.server_app`),
which drives the central functions of `livermet.federated` over Flower's Message API and writes
the results. Nothing here is a network protocol of livermet's own: every byte goes through
Flower's SuperLink.

What goes through Flower's secure aggregation (SecAgg+, the coordinator sees the total only):
the table of events and censorings per distinct time and group behind Kaplan-Meier overall and
by group and the log-rank test, and the number of patients. These are integers, which the
SecAgg+ quantisation chosen here (`.wire.SECAGG_CLIP`) carries without loss, so the results are
the pooled ones exactly. What goes in clear (a site's own answer, seen by the coordinator): the
distinct follow-up times and group labels of each site (to agree on the table's shape) and every
round of the Cox protocol (risk-set sums are real numbers, which SecAgg+ would round).

Flower is an optional dependency (``pip install 'livermet[federated]'``, `make flower-env`); only
`.client_app` and `.server_app` import it, and nothing in `livermet` imports them.
"""

__all__: list[str] = []
