"""The figures, one module per kind of output folder, beside the HTML reports
(:mod:`sim.views.report`) that embed them:

* :mod:`sim.views.figures.run`: a run's trends (:func:`~sim.views.figures.run.plot_run`);
* :mod:`sim.views.figures.calibration`: a calibration's fit and posterior
  (:func:`~sim.views.figures.calibration.plot_calibration`);
* :mod:`sim.views.figures.comparison`: a comparison's fan charts and what-to-watch matrix
  (:func:`~sim.views.figures.comparison.plot_comparison`);
* :mod:`sim.views.figures.sweep`: a sweep analysis's sensitivity bars, grid heatmaps and lines,
  PRIM boxes (:func:`~sim.views.figures.sweep.plot_analysis`);
* :mod:`sim.views.figures.bands`: what the trends share: band tables
  (:func:`~sim.views.figures.bands.band_table`) and drawing them on a time axis of quarters.

The palette, labels, theme and atomic saving are :mod:`sim.views.style`'s. matplotlib is imported
inside the functions that draw, so importing any of these modules stays instant.
"""
