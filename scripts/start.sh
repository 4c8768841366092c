#!/usr/bin/env bash
# `npm start`: sets everything up (scripts/setup.sh, idempotent), then serves JupyterLab with the
# tutorial notebooks on this machine's loopback interface and prints the URL to open.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'EOF'
Usage: npm start -- [options] [-- jupyter_server options]
       bash scripts/start.sh [options] [-- jupyter_server options]

Sets dynbatch up (scripts/setup.sh: apt packages, native build, tslab kernel, JupyterLab build;
each step is skipped when already done), then starts JupyterLab on 127.0.0.1 with the notebooks/
folder, token authentication, and prints the URL (with its token) to open.

Options:
  --port N        first port to try (default 8888, or $DYNBATCH_LAB_PORT); the next free one is
                  taken when it is in use
  --no-browser    do not open a browser (the default when there is no display)
  --browser       open the default browser even without $DISPLAY / $WAYLAND_DISPLAY
  --skip-setup    start the server without running scripts/setup.sh first
  -h, --help      this text

Anything after `--` goes to jupyter_server, e.g. -- --ServerApp.token=mytoken
Environment: DYNBATCH_QUICK=1 is passed to the kernels (the notebooks then run briefly).
Stop the server with Control-C.
EOF
}

port="${DYNBATCH_LAB_PORT:-8888}"
browser=""
setup=1
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="${2:?--port needs a number}"; shift 2 ;;
    --port=*) port="${1#--port=}"; shift ;;
    --no-browser) browser="no"; shift ;;
    --browser) browser="yes"; shift ;;
    --skip-setup) setup=0; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    *) echo "start: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if ! [[ "$port" =~ ^[0-9]+$ ]]; then
  echo "start: --port takes a number, not '$port'" >&2
  exit 2
fi

# Without a display, Python's webbrowser module may start a text browser in this terminal.
if [ -z "$browser" ]; then
  if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then browser="yes"; else browser="no"; fi
fi
open_flag="--no-browser"
[ "$browser" = "yes" ] && open_flag="--ServerApp.open_browser=True"

if [ "$setup" = 1 ]; then
  bash scripts/setup.sh
fi

# serve.py prints "JupyterLab is ready. Open this URL in a browser: …" once it listens.
exec /usr/bin/python3 lab/serve.py --ServerApp.root_dir=notebooks --port="$port" "$open_flag" "$@"
