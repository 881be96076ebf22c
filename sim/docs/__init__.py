"""The documentation site: its generated pages and its build (``adoptsim docs``).

One module per concern:

* :mod:`sim.docs.keys`: every scenario key, read from the scenario schema;
* :mod:`sim.docs.tables`: the reference tables in Markdown (scenario keys, signals, metrics and
  their segments, the command line), each from the table the code runs on;
* :mod:`sim.docs.odd`: the generated parts of the ODD model description (the quarter's
  schedule, parameter tables with values, sources and confidence, input data, the panel);
* :mod:`sim.docs.markers`: the markers in ``docs/*.md`` that the build replaces with them;
* :mod:`sim.docs.notebooks`: the notebooks, executed as the site shows them;
* :mod:`sim.docs.site`: :func:`build_site` (strict, into ``outputs/site``) and
  :func:`serve_site`.

Names are loaded on first use, so ``import sim.docs`` imports neither MkDocs nor the model.
"""

from sim.lazy import lazy_exports

_PUBLIC = {
    "build_site": "sim.docs.site",
    "serve_site": "sim.docs.site",
    "SiteBuild": "sim.docs.site",
    "DocsError": "sim.docs.site",
    "project_root": "sim.docs.site",
}

__getattr__, __all__ = lazy_exports(__name__, _PUBLIC)
