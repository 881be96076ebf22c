"""The model core: scenario schema and loading, the signal paths, the enterprise population,
vendors, the decision kernel, the Mesa agents and model, and the metrics they report.

It knows nothing of files beyond the scenario files it loads, of the command line, of executors
or of plots: every other layer builds on it, and it imports none of them. Step order is written
down once, in :meth:`sim.core.model.AdoptionModel.step`.
"""
