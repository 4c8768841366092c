"""Executes a notebook headless with its kernel (tslab) through Debian's nbclient.

usage: /usr/bin/python3 run_notebook.py IN.ipynb OUT.ipynb [--cwd DIR] [--kernel NAME] [--timeout SECONDS]

--kernel names the kernel (default: the one in the notebook's metadata): the committed notebooks
name a generic kernel, each project registers its own (`dynbatch kernel name`).
The kernel starts in --cwd (default: the notebook's folder), where tslab resolves imports.
OUT is written even when a cell fails, so the failing output can be read; the exit status is 1
when a cell raised or any output is an error. Timing metadata is not recorded, so regenerated
notebooks differ only where their outputs do. JSON payloads (the dynbatch views' data) are written
on one line each: nbformat's indentation would put every key of every layer on a line of its own
and double the file (the committed notebooks stay under 300 KB).
"""
import argparse
import copy
import json
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbformat.v4.rwbase import split_lines
from nbclient.exceptions import CellExecutionError, DeadKernelError, CellTimeoutError


def write(nb, path):
    """nbformat.write's layout (indent 1, sorted keys), with each +json payload compact on one line."""
    nbformat.validate(nb)
    nb = split_lines(copy.deepcopy(nb))  # multi-line strings as lists of lines, as nbformat stores them
    payloads = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            for mime, value in out.get("data", {}).items():
                if mime.endswith("+json"):
                    payloads.append(json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")))
                    out["data"][mime] = f"\0payload{len(payloads) - 1}\0"
    text = json.dumps(nb, ensure_ascii=False, sort_keys=True, indent=1)
    for i, payload in enumerate(payloads):
        text = text.replace(json.dumps(f"\0payload{i}\0"), payload, 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--cwd")
    ap.add_argument("--kernel")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = ap.parse_args()

    nb = nbformat.read(args.src, as_version=4)
    cwd = os.path.abspath(args.cwd or os.path.dirname(os.path.abspath(args.src)))
    client = NotebookClient(
        nb,
        timeout=args.timeout,
        kernel_name=args.kernel or nb.metadata.get("kernelspec", {}).get("name", "tslab"),
        resources={"metadata": {"path": cwd}},
        record_timing=False,
    )
    start = time.monotonic()
    failure = None
    try:
        client.execute()
    except (CellExecutionError, DeadKernelError, CellTimeoutError) as e:
        failure = str(e)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    write(nb, args.dst)
    print(f"{os.path.basename(args.src)}: {time.monotonic() - start:.1f} s", file=sys.stderr)
    if failure or errors:
        print(failure or "\n".join(f"{o.get('ename')}: {o.get('evalue')}" for o in errors), file=sys.stderr)
        sys.exit(1)


main()
