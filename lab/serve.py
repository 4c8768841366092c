"""Serves the JupyterLab 4 frontend of lab/build with Debian's jupyter_server 1.23 and
jupyterlab_server 2.16, loading prebuilt (federated) extensions from lab/build/labextensions.

Run with /usr/bin/python3 (Debian's Jupyter modules); every jupyter_server option works, e.g.
    /usr/bin/python3 lab/serve.py --ServerApp.root_dir=notebooks --port=8888 --no-browser

JupyterLab 4 expects a jupyter_server >= 2.4; the endpoints 1.23 lacks are added here with the
answers JupyterLab needs, so that no request of the page fails.
"""

import atexit
import getpass
import hashlib
import json
import os
import signal
import sys
import threading
import time

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.base.handlers import APIHandler
from jupyter_server.base.zmqhandlers import WebSocketMixin
from jupyter_server.utils import url_path_join
from jupyterlab_server import LabServerApp
from tornado import web
from tornado.ioloop import IOLoop
from tornado.websocket import WebSocketHandler
from traitlets import Unicode, default

# Listing kernel specs imports ipykernel, whose debugger prints four lines about frozen modules
# on Debian's Python 3.11; they are not actionable here.
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

LAB = os.path.dirname(os.path.abspath(__file__))
# How long a signalled stop may spend shutting kernels down politely before they are killed.
STOP_GRACE_S = 3.0
BUILD = os.path.join(LAB, "build")
ROOT = os.path.dirname(LAB)


def _descendants(pid):
    """Pids of every live process below `pid` (kernels run in sessions of their own, but they stay
    the server's children)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                # The command name (field 2) may hold spaces and parentheses; ppid follows its ')'.
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill_descendants():
    for pid in _descendants(os.getpid()):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def project_kernel_name(project=ROOT):
    """This checkout's tslab kernel, as `dynbatch kernel name` computes it (kernel/cli/install/kernelspec.ts)."""
    return "dynbatch-" + hashlib.sha256(os.path.realpath(project).encode()).hexdigest()[:8]


def _jupyterlab_version():
    """The version of the @jupyterlab/application package the frontend was built from."""
    package = os.path.join(ROOT, "node_modules", "@jupyterlab", "application", "package.json")
    with open(package, encoding="utf-8") as f:
        return json.load(f)["version"]


class IdentityHandler(APIHandler):
    """GET /api/me (jupyter_server >= 2): who the user is and what they may do. JupyterLab polls
    it for the user's name and avatar; a single-user server grants everything it offers."""

    @web.authenticated
    def get(self):
        name = getpass.getuser()
        identity = {
            "username": name,
            "name": name,
            "display_name": name,
            "initials": name[:1].upper(),
            "avatar_url": None,
            "color": None,
        }
        self.finish(json.dumps({"identity": identity, "permissions": {}}))


class EventsHandler(APIHandler):
    """POST /api/events (jupyter_server >= 2): emits an event on the server's event bus. This
    server has no bus, so an event is accepted and dropped."""

    @web.authenticated
    def post(self):
        self.set_status(204)
        self.finish()


class EventsSocketHandler(WebSocketMixin, WebSocketHandler, APIHandler):
    """WS /api/events/subscribe (jupyter_server >= 2): the server's event stream. Without it
    JupyterLab reconnects forever and logs each failure; this server emits no events, so the
    socket stays open and silent."""

    async def get(self, *args, **kwargs):
        if self.current_user is None:
            raise web.HTTPError(403)
        return await super().get(*args, **kwargs)

    def on_message(self, message):
        """Clients do not send on this socket; anything sent is ignored."""


class LanguageServersHandler(APIHandler):
    """GET /lsp/status (the jupyter-lsp server extension): the language servers available.
    JupyterLab's LSP plugins ask at start; this server runs none, and says so."""

    @web.authenticated
    def get(self):
        self.finish(json.dumps({"version": 2, "sessions": {}, "specs": {}}))


class DynbatchLab(LabServerApp):
    """JupyterLab 4 on jupyter_server 1.23: the page, its settings, themes and extensions."""

    name = "dynbatch_lab"
    app_name = "JupyterLab"
    load_other_extensions = False
    # Root is fine for a server bound to the loopback interface, and containers often run as root.
    # No terminal plugin is built in, so the server offers no terminals either.
    serverapp_config = {"ip": "127.0.0.1", "allow_root": os.geteuid() == 0, "terminals_enabled": False}

    state_dir = Unicode(
        help="Where the user's settings and workspaces are kept (default: <jupyter data dir>/dynbatch-lab)"
    ).tag(config=True)

    @default("state_dir")
    def _default_state_dir(self):
        return os.path.join(jupyter_data_dir(), "dynbatch-lab")

    @default("app_version")
    def _default_app_version(self):
        return _jupyterlab_version()

    @default("static_dir")
    def _default_static_dir(self):
        return os.path.join(BUILD, "static")

    @default("templates_dir")
    def _default_templates_dir(self):
        return os.path.join(LAB, "templates")

    @default("schemas_dir")
    def _default_schemas_dir(self):
        return os.path.join(BUILD, "schemas")

    @default("themes_dir")
    def _default_themes_dir(self):
        return os.path.join(BUILD, "themes")

    @default("app_settings_dir")
    def _default_app_settings_dir(self):
        return os.path.join(LAB, "app-settings")

    @default("labextensions_path")
    def _default_labextensions_path(self):
        return [os.path.join(BUILD, "labextensions")]

    @default("user_settings_dir")
    def _default_user_settings_dir(self):
        return os.path.join(self.state_dir, "user-settings")

    @default("workspaces_dir")
    def _default_workspaces_dir(self):
        return os.path.join(self.state_dir, "workspaces")

    def initialize_settings(self):
        # notebooks/node_modules only makes `dynbatch` importable from the notebooks; the file
        # browser need not show it.
        contents = self.serverapp.contents_manager
        contents.hide_globs = [*contents.hide_globs, "node_modules"]
        # Only this checkout's kernel: the notebooks name a generic kernel that no machine has, so
        # JupyterLab opens them with the one TypeScript kernel offered, never another clone's.
        kernel = project_kernel_name()
        self.serverapp.kernel_spec_manager.allowed_kernelspecs = {kernel}
        self.serverapp.kernel_manager.default_kernel_name = kernel
        super().initialize_settings()

    def initialize_handlers(self):
        for required in (os.path.join(self.static_dir, "bundle.js"), self.labextensions_path[0]):
            if not os.path.exists(required):
                sys.exit(f"{required} is missing: run `bash scripts/lab-setup.sh` first")
        # The server prefixes these patterns with its base URL.
        self.handlers.extend(
            [
                ("/api/me", IdentityHandler),
                ("/api/events", EventsHandler),
                ("/api/events/subscribe", EventsSocketHandler),
                ("/lsp/status", LanguageServersHandler),
            ]
        )
        super().initialize_handlers()
        IOLoop.current().add_callback(self._announce)

    def _stop_on_signal(self, signum, _frame):
        """Ctrl-C or SIGTERM: stop now, without jupyter_server's "Shutdown this server (y/[n])?"
        prompt. jupyter_server 1.23 waits without limit for a kernel that is still starting, so a
        watchdog kills what is left after STOP_GRACE_S; a second signal does that at once."""
        stopping_since = getattr(self, "_stopping_since", None)
        if stopping_since is not None:
            # Ctrl-C in a terminal reaches npm and the server at once, and npm forwards its copy:
            # only a signal that comes later is a second request.
            if time.monotonic() - stopping_since > 1.0:
                _kill_descendants()
                os._exit(128 + signum)
            return
        self._stopping_since = time.monotonic()
        # A kernel still being launched is not yet one jupyter_server knows, so its polite shutdown
        # misses it: whatever is left below the server goes when the interpreter exits.
        atexit.register(_kill_descendants)
        print(f"\n    {signal.Signals(signum).name}: stopping the server and its kernels", flush=True)
        watchdog = threading.Timer(STOP_GRACE_S, self._force_exit, args=(signum,))
        watchdog.daemon = True
        watchdog.start()
        self.serverapp.stop(from_signal=True)

    def _force_exit(self, signum):
        print(f"    kernels still running after {STOP_GRACE_S:g} s: killed", flush=True)
        _kill_descendants()
        os._exit(128 + signum)

    def _announce(self):
        """Prints the URL to open (with its token) once the server listens. Runs on the started
        loop, after jupyter_server installed its own signal handlers, so ours replace them."""
        signal.signal(signal.SIGINT, self._stop_on_signal)
        signal.signal(signal.SIGTERM, self._stop_on_signal)
        server = self.serverapp
        url = url_path_join(server.connection_url, self.app_url)
        if server.token:
            url += f"?token={server.token}"
        print(f"\n    JupyterLab is ready. Open this URL in a browser:\n\n        {url}\n", flush=True)


def _jupyter_server_extension_points():
    return [{"module": __name__, "app": DynbatchLab}]


if __name__ == "__main__":
    DynbatchLab.launch_instance()
