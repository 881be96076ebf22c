"""My enterprise: one enterprise's profile edited in the page and advised under the what-if.

One module per idea; the page (:mod:`sim.explorer.enterprise_view`) uses the names below from
here:

* :mod:`sim.explorer.enterprise.profiles`: the profile files the page offers
  (:func:`profile_choices`, under the project's ``profiles/``), a profile as an editable
  document (:func:`read_document`, :func:`new_document`, :func:`edited`, :func:`with_workload`,
  :func:`without_workload`), checked (:func:`profile_of`) and written as YAML
  (:func:`profile_yaml`; :func:`sim.explorer.files.save_profile` saves it);
* :mod:`sim.explorer.enterprise.advice`: the scenario the What-if view has made
  (:func:`whatif_scenario`), the advice (:func:`sim.advise.advice.advise`) under it
  (:func:`advise_whatif` -> :class:`PageAdvice`, at the page's smaller settings, cancellable,
  the peers' simulations kept in a :class:`PeerCache`),
  and its tables for the page (:func:`recommendation_grid`, :func:`year_costs`,
  :func:`caption`).

Names are loaded on first use.
"""

from sim.lazy import lazy_exports

_PUBLIC = {
    "PROFILES_FOLDER": "sim.explorer.enterprise.profiles",
    "profile_choices": "sim.explorer.enterprise.profiles",
    "read_document": "sim.explorer.enterprise.profiles",
    "new_document": "sim.explorer.enterprise.profiles",
    "profile_of": "sim.explorer.enterprise.profiles",
    "edited": "sim.explorer.enterprise.profiles",
    "with_workload": "sim.explorer.enterprise.profiles",
    "without_workload": "sim.explorer.enterprise.profiles",
    "profile_yaml": "sim.explorer.enterprise.profiles",
    "DEFAULT_DRAWS": "sim.explorer.enterprise.advice",
    "DEFAULT_PEER_REPLICATIONS": "sim.explorer.enterprise.advice",
    "PageAdvice": "sim.explorer.enterprise.advice",
    "PAID_PARTS": "sim.explorer.enterprise.advice",
    "NOT_PAID": "sim.advise.advice",
    "WhatIfScenario": "sim.explorer.enterprise.advice",
    "whatif_scenario": "sim.explorer.enterprise.advice",
    "caption": "sim.explorer.enterprise.advice",
    "advise_whatif": "sim.explorer.enterprise.advice",
    "PeerCache": "sim.explorer.enterprise.advice",
    "recommendation_grid": "sim.explorer.enterprise.advice",
    "year_costs": "sim.explorer.enterprise.advice",
}

__getattr__, __all__ = lazy_exports(__name__, _PUBLIC)
