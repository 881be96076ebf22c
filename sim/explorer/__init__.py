"""The explorer's library layer: what-if ensembles, saved scenarios and the project's files.

:mod:`sim.explorer.whatif` turns a strategist's question ("what if open tooling stalls?") into a
scenario (controls labelled in the article's units, each mapped to scenario keys), runs it paired
with the scenario it changes (common random numbers and posterior draws, through
:func:`sim.workflows.run_scenario` and :mod:`sim.running.compare`) and writes it as a YAML file
that ``extends`` the chosen scenario. :mod:`sim.explorer.files` keeps the page's reads and
writes inside the project's ``scenarios/`` and ``outputs/`` folders and lists the result folders.
Nothing here holds model logic or draws plots; the web page (:mod:`sim.explorer.app`) builds on
these functions.
"""
