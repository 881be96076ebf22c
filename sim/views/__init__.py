"""What readers see: figures, one module per kind of output (:mod:`sim.views.figures`: a run's,
a calibration's, a comparison's, a sweep analysis's), the calibration report
(:mod:`~sim.views.calibration`), the HTML reports of output folders (:mod:`sim.views.report`),
a sweep's analysis with its figures and report (:mod:`~sim.views.sweep_analysis`,
``sim.analyze_sweep``) and the tables the command line prints (:mod:`~sim.views.terminal`).
:mod:`~sim.views.style` holds what they share: palette, theme, metric and segment labels, metric
lists, figure helpers.

Views read results (tables, folders, a :class:`~sim.calibration.fit.Calibration`); they run no
model. Heavy imports (matplotlib, seaborn) happen inside the functions that draw.
"""
