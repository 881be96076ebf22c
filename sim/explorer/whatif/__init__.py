"""What if: a strategist's change to a scenario, run paired with the scenario it changes.

One module per idea; the page (:mod:`sim.explorer.app`) uses the names below from here:

* :mod:`sim.explorer.whatif.controls`: the one table of controls (:data:`CONTROLS`), each with
  what the page shows and how it reads and writes the scenario (:class:`Binding`);
  :func:`controls_for` (the scenario's own choices), :func:`current_values`;
* :mod:`sim.explorer.whatif.changes`: changes checked against the controls
  (:func:`effective_changes`), applied as ``--set`` overrides (:func:`apply_changes`) and put in
  words (:func:`describe`);
* :mod:`sim.explorer.whatif.scenario_files`: the scenarios the page offers
  (:func:`scenario_choices`) and the file that reproduces it (:func:`saved_yaml`);
* :mod:`sim.explorer.whatif.ensemble`: paired ensembles with a cached reference
  (:class:`Ensemble`, :func:`run_whatif` -> :class:`WhatIf`, :class:`Cancelled`) and the
  full-size run in the background (:func:`start_full_run` -> :class:`FullRun`).

Names are loaded on first use.
"""

from sim.lazy import lazy_exports

_PUBLIC = {
    "Binding": "sim.explorer.whatif.controls",
    "Control": "sim.explorer.whatif.controls",
    "CONTROLS": "sim.explorer.whatif.controls",
    "controls_for": "sim.explorer.whatif.controls",
    "current_values": "sim.explorer.whatif.controls",
    "effective_changes": "sim.explorer.whatif.changes",
    "apply_changes": "sim.explorer.whatif.changes",
    "describe": "sim.explorer.whatif.changes",
    "default_name": "sim.explorer.whatif.changes",
    "saved_yaml": "sim.explorer.whatif.scenario_files",
    "scenario_choices": "sim.explorer.whatif.scenario_files",
    "DEFAULT_REPLICATIONS": "sim.explorer.whatif.ensemble",
    "DEFAULT_ENTERPRISES": "sim.explorer.whatif.ensemble",
    "WHATIF_METRICS": "sim.explorer.whatif.ensemble",
    "Cancelled": "sim.explorer.whatif.ensemble",
    "WhatIf": "sim.explorer.whatif.ensemble",
    "Ensemble": "sim.explorer.whatif.ensemble",
    "run_whatif": "sim.explorer.whatif.ensemble",
    "FullRun": "sim.explorer.whatif.ensemble",
    "start_full_run": "sim.explorer.whatif.ensemble",
}

__getattr__, __all__ = lazy_exports(__name__, _PUBLIC)
