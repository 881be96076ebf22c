"""Advice for one enterprise: ``adoptsim advise PROFILE``.

The model answers for the market as a whole; this package answers the article's closing question
for one enterprise described in a profile file: which of its workloads belong on closed APIs and
which on open weights, what each option costs it in dollars, where self-hosting breaks even, what
would change the answer, and where its peers stand, under the baseline and the futures to watch.
It uses the model's own decision formulas and posterior draws, never a second copy.

One module per concern:

* :mod:`sim.advise.profile`: the profile file, its schema and reading;
* :mod:`sim.advise.enterprise`: the profile's enterprise in a scenario's terms (ML capacity from
  ML engineers, tokens a month to the model's volumes);
* :mod:`sim.advise.draws`: a scenario's posterior draws stacked for evaluation all at once;
* :mod:`sim.advise.evaluate`: costs, utilities, the chosen stack and allocation, the break-even,
  for many cases at once;
* :mod:`sim.advise.peers`: the scenario's simulated enterprises: the peers' deployments, the
  vendor terms and the peer share the enterprise meets;
* :mod:`sim.advise.flips`: the signal values that would flip a recommendation;
* :mod:`sim.advise.advice`: all of it per scenario, workload and year, as tables.
"""
