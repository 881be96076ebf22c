"""The explorer's web server: the Solara page (:mod:`sim.explorer.app`) and the project's reports.

``/files/<path>`` serves a file of the project's ``scenarios/``, ``outputs/`` or ``profiles/``
(a run's ``report.html``, say) and nothing else: every path goes through
:func:`sim.explorer.files.safe_path`, and one that leaves those folders gets 403; one that is
not there, or that the system cannot even look up (a name too long), 404. A URL longer than
:data:`MAX_URL_BYTES` gets 414 before any route. Everything else is Solara's own server (its
assets are served locally, so the page works with no network).

The page has no authentication: anyone who can reach it can run simulations and write into
``outputs/``. So it listens on this machine only (:func:`check_host`) unless the user says
otherwise with ``--allow-remote``.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

from sim.errors import UserError
from sim.explorer.shared import SETTINGS

MAX_URL_BYTES = 4096   # Linux's longest path; no file the page links to comes near it


class AddressRefused(UserError):
    """An address the explorer cannot or may not listen on; reported like a bad setting (exit
    code 2)."""


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
        try:
            found = path.is_file()
        except OSError:   # a name too long to look up, say
            found = False
        if not found:
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(path)

    import solara.server.starlette as solara_server
    from starlette.middleware import Middleware

    return Starlette(routes=[Route("/files/{path:path}", serve), *solara_server.routes],
                     middleware=[Middleware(LongUrlRefused), *solara_server.middleware],
                     lifespan=solara_server.lifespan)


class LongUrlRefused:
    """ASGI middleware: an HTTP request whose URL (path and query) is longer than
    :data:`MAX_URL_BYTES` gets 414 before any route sees it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and (len(scope.get("raw_path") or scope["path"].encode())
                                        + len(scope.get("query_string", b""))) > MAX_URL_BYTES:
            from starlette.responses import PlainTextResponse

            await PlainTextResponse("URL too long", status_code=414)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def check_host(host: str, allow_remote: bool) -> None:
    """An :class:`AddressRefused` if ``host`` is reachable from other machines (anything but a
    loopback address, or a name for one) and the user did not say ``allow_remote``: the page
    has no authentication."""
    if allow_remote or _loopback(host):
        return
    raise AddressRefused(f"--host {host} would let other machines reach the explorer, whose page "
                         "has no authentication: anyone who reaches it can run simulations and "
                         "write into outputs/. Add --allow-remote to listen there anyway")


def _loopback(host: str) -> bool:
    """Whether every address ``host`` stands for is a loopback address (this machine only)."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(address.split("%")[0]).is_loopback
                                   for address in addresses)


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (port 0: a free port, which ``getsockname`` tells) for
    the server, bound here so that the port announced is the one it got; an
    :class:`AddressRefused` saying why it cannot be (in use, no such address)."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise AddressRefused(f"cannot listen on {host}:{port} ({error.strerror}); choose "
                             "another --host or --port") from None
    return listener


def serve(root: Path, scenario: str, *, listener: socket.socket, announce=print,
          **page) -> None:
    """Run the explorer on ``listener`` (:func:`listening_socket`) until interrupted;
    ``announce`` gets its URL. ``page``: the page's settings (:func:`configure`)."""
    import uvicorn

    configure(root, scenario, **page)
    host, port = listener.getsockname()[:2]
    server = uvicorn.Server(uvicorn.Config(application(root), log_level="warning"))
    announce(f"adoptsim explorer: http://{f'[{host}]' if ':' in host else host}:{port}/  "
             "(Ctrl-C to stop)")
    server.run(sockets=[listener])
