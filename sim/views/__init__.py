"""What readers see: figures (:mod:`~sim.views.plots`, :mod:`~sim.views.sweep_plots`), the
calibration report (:mod:`~sim.views.calibration`) and the HTML reports of output folders
(:mod:`sim.views.report`).

Views read results (tables, folders, a :class:`~sim.calibration.fit.Calibration`); they run no
model. Heavy imports (matplotlib, seaborn) happen inside the modules that draw.
"""
