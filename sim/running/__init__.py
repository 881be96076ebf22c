"""Running the model: replications (:mod:`~sim.running.runner`), comparisons of scenarios
(:mod:`~sim.running.compare`), the executors every parallel job uses, local process pools or
Dask (:mod:`~sim.running.executors`), atomic output folders (:mod:`~sim.running.storage`) and
the provenance every manifest records (:mod:`~sim.running.provenance`).

It builds on :mod:`sim.core` and knows nothing of plots or reports.
"""
