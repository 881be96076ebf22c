"""The explorer's library layer: what-if ensembles, saved scenarios and the project's files.

:mod:`sim.explorer.whatif` turns a strategist's question ("what if open tooling stalls?") into a
scenario (one table of controls labelled in the article's units, each reading and writing its
scenario keys: :mod:`~sim.explorer.whatif.controls`, :mod:`~sim.explorer.whatif.changes`), runs
it paired with the scenario it changes (common random numbers and posterior draws, through
:func:`sim.workflows.run_scenario` and :mod:`sim.running.compare`:
:mod:`~sim.explorer.whatif.ensemble`) and writes it as a YAML file that ``extends`` the chosen
scenario (:mod:`~sim.explorer.whatif.scenario_files`). :mod:`sim.explorer.files` keeps the
page's reads and writes inside the project's ``scenarios/`` and ``outputs/`` folders and lists
the result folders.
Nothing here holds model logic or draws plots; the web page builds on these functions:

* ``whatif.CONTROLS``, ``controls_for(scenario)``, ``current_values(scenario)``: the controls,
  with the scenario's own choices, and their values in a scenario;
* ``whatif.scenario_choices(root)``, ``apply_changes(source, changes)``,
  ``saved_yaml(source, changes, root, replications=, enterprises=)``: scenarios to pick, the
  changed scenario (bad values raise ``ScenarioError`` with the control's key as ``key_path``),
  and the file that reproduces the page;
* ``whatif.run_whatif(...)`` / ``Ensemble().run(...)`` -> ``WhatIf`` (``Cancelled`` when
  ``cancelled()`` turns true), ``start_full_run(scenario, out)`` -> ``FullRun``;
* ``files.project_root()``, ``safe_path(root, requested)`` (``PathRefused``),
  ``result_folders(root)`` -> ``ResultFolder``, ``save_scenario(root, name, text)``.
"""
