"""What readers see: figures (:mod:`~sim.views.plots`, :mod:`~sim.views.sweep_plots`), the
calibration report (:mod:`~sim.views.calibration`), the HTML reports of output folders
(:mod:`sim.views.report`) and a sweep's analysis with its figures and report
(:mod:`~sim.views.sweep_analysis`, ``sim.analyze_sweep``). :mod:`~sim.views.style` holds what
they share: palette, theme, metric and segment labels, metric lists, figure helpers.

Views read results (tables, folders, a :class:`~sim.calibration.fit.Calibration`); they run no
model. Heavy imports (matplotlib, seaborn) happen inside the functions that draw.
"""
