"""The explorer's web server: the Solara page (:mod:`sim.explorer.app`) and the project's reports.

``/files/<path>`` serves a file of the project's ``scenarios/``, ``outputs/`` or ``profiles/``
(a run's ``report.html``, say) and nothing else: every path goes through
:func:`sim.explorer.files.safe_path`, and one that leaves those folders gets 403. Everything else
is Solara's own server (its assets are served locally, so the page works with no network).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from sim.explorer.shared import SETTINGS


def configure(root: Path, scenario: str, **page) -> None:
    """Tell the page (imported by Solara in this process) what to show: the project folder, the
    scenario it opens on, and its settings ``page`` (the names of
    :data:`sim.explorer.shared.SETTINGS`: enterprises, replications, draws, peer_replications)."""
    os.environ.update({SETTINGS["root"]: str(root), SETTINGS["scenario"]: scenario,
                       **{SETTINGS[name]: str(value) for name, value in page.items()}})
    os.environ["SOLARA_APP"] = "sim.explorer.app:Page"
    os.environ.setdefault("SOLARA_ASSETS_PROXY", "False")   # no CDN: everything from this server
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")


def application(root: Path):
    """The Starlette application: ``/files/...`` in front of Solara's routes."""
    from starlette.applications import Starlette
    from starlette.responses import FileResponse, PlainTextResponse
    from starlette.routing import Route

    from sim.explorer.files import PathRefused, safe_path

    def serve(request):
        try:
            path = safe_path(root, request.path_params["path"])
        except PathRefused as refusal:
            return PlainTextResponse(f"refused: {refusal}", status_code=403)
        if not path.is_file():
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(path)

    import solara.server.starlette as solara_server

    return Starlette(routes=[Route("/files/{path:path}", serve), *solara_server.routes],
                     middleware=solara_server.middleware, lifespan=solara_server.lifespan)


def port_problem(host: str, port: int) -> str | None:
    """Why the explorer cannot listen on ``host:port`` (in use, no such address), or None."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return (f"cannot listen on {host}:{port} ({error.strerror}); choose another --host "
                    "or --port")
    return None


def serve(root: Path, scenario: str, *, host: str, port: int, announce=print, **page) -> None:
    """Run the explorer until interrupted; ``announce`` gets its URL. ``page``: the page's
    settings (:func:`configure`)."""
    import uvicorn

    configure(root, scenario, **page)
    config = uvicorn.Config(application(root), host=host, port=port, log_level="warning")
    server = uvicorn.Server(config)
    announce(f"adoptsim explorer: http://{host}:{port}/  (Ctrl-C to stop)")
    server.run()
