"""Executes notebooks headless with the course kernel, through nbclient.

Usage: run_notebooks.py --kernel NAME [--timeout S] [--save-dir DIR] NOTEBOOK...

Prints one JSON document on stdout: for each notebook its path, code cells,
seconds, the backend line it printed, its errors (cell index, error name,
message, traceback), the check results it displayed and the cells that showed
a value as an execute_result (a cell's last expression). Notebooks run in the
folder they live in, as JupyterLab runs them. The files are never modified;
with --save-dir, executed copies are written there (for debugging).
"""

import argparse
import asyncio
import json
import os
import re
import sys
import time

import queue

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionComplete, CellExecutionError, CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async

CHECK_MIME = "application/vnd.attention-course.check+json"
BACKEND_LINE = re.compile(r"TensorFlow\.js \S+ backend: (\w+)[^\n]*")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


# Deno's kernel (2.9) sometimes sends a cell's last stdout lines just after it
# reports "idle"; nbclient stops listening at "idle" and would drop them. So we
# keep reading for a short quiet window and file late messages under their cell.
LATE_OUTPUT_GRACE_S = 0.2


class DenoNotebookClient(NotebookClient):
    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        while True:
            msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=None))
            if msg["parent_header"].get("msg_id") != parent_msg_id:
                continue
            try:
                self.process_message(msg, cell, cell_index)
            except CellExecutionComplete:
                break
        while True:
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=LATE_OUTPUT_GRACE_S))
            except queue.Empty:
                return
            if msg["parent_header"].get("msg_id") == parent_msg_id:
                try:
                    self.process_message(msg, cell, cell_index)
                except CellExecutionComplete:
                    pass


# tslab resets its queue for 200 ms after a failed cell (requests in that time are aborted).
TSLAB_PACE_S = 0.3
# tslab's compile errors: "line:column - message", one per diagnostic.
TSLAB_DIAGNOSTIC = re.compile(r"^(?:\S+ )?\d+:\d+ - .*$", re.M)
# The head of an error as Node's util.inspect prints it ("TypeError: message", "Error [ERR_X]: message").
ERROR_HEAD = re.compile(r"^([A-Za-z_$][\w$]*)(?: \[[\w$]+\])?: (.*)$")
# Node prints where a vm script threw before the error: "evalmachine.<anonymous>:3", the line, a caret, a blank.
VM_SOURCE = re.compile(r"^evalmachine\.<anonymous>:\d+$")
# Stack frames of tslab itself, below the cell's own.
TSLAB_FRAME = re.compile(r"node:vm|[\\/]tslab[\\/]dist[\\/]")


def _is_frame(line):
    return line.lstrip().startswith("at ")


def stderr_to_error(outputs):
    """tslab's report of a failed cell (its stderr text) as a Jupyter error output.

    Returns the new output list: the stderr text of the error leaves the stream
    outputs and becomes one error output at the end (ename, evalue, traceback
    lines, without tslab's own stack frames); stderr the cell wrote before the
    error stays, as one stream output.
    """
    is_stderr = lambda o: o.get("output_type") == "stream" and o.get("name") == "stderr"  # noqa: E731
    text = ANSI.sub("", "".join(o.get("text", "") for o in outputs if is_stderr(o)))
    kept = [o for o in outputs if not is_stderr(o)]
    lines = text.strip("\n").split("\n") if text.strip() else []
    start, ename, evalue, body = 0, "Error", "", lines
    diagnostics = [i for i, line in enumerate(lines) if TSLAB_DIAGNOSTIC.match(line)]
    stack = next((i for i, line in enumerate(lines) if _is_frame(line)), len(lines))
    head = next((i for i in range(stack - 1, -1, -1) if ERROR_HEAD.match(lines[i])), None)
    if diagnostics:
        start, ename = diagnostics[0], "TypeScriptError"
        evalue, body = "\n".join(lines[i] for i in diagnostics), lines[start:]
    elif head is not None and (stack < len(lines) or head == len(lines) - 1):
        match = ERROR_HEAD.match(lines[head])
        ename, evalue = match.group(1), "\n".join([match.group(2), *lines[head + 1:stack]]).strip()
        start = head
        if head >= 4 and VM_SOURCE.match(lines[head - 4]) and lines[head - 2].strip().startswith("^") \
                and not lines[head - 1].strip():
            start = head - 4
        body = lines[head:stack] + [f for f in lines[stack:] if not TSLAB_FRAME.search(f)]
    else:
        evalue = "\n".join(lines) or "the cell failed and wrote nothing to stderr"
    if start > 0:
        kept.insert(0, {"output_type": "stream", "name": "stderr", "text": "\n".join(lines[:start]) + "\n"})
    kept.append({"output_type": "error", "ename": ename, "evalue": evalue, "traceback": body})
    return kept


class TslabNotebookClient(DenoNotebookClient):
    """tslab: failures become error outputs, and cells after a failure are paced (see the module's doc)."""

    async def _check_raise_for_error(self, cell, cell_index, exec_reply):
        status = (exec_reply or {}).get("content", {}).get("status")
        if status == "error":
            if not any(o.get("output_type") == "error" for o in cell.outputs):
                cell.outputs = [nbformat.from_dict(o) for o in stderr_to_error(cell.outputs)]
            await asyncio.sleep(TSLAB_PACE_S)
        elif status == "abort":
            cell.outputs.append(nbformat.from_dict({
                "output_type": "error",
                "ename": "CellAborted",
                "evalue": "the kernel aborted this cell without running it",
                "traceback": [],
            }))
        await super()._check_raise_for_error(cell, cell_index, exec_reply)


def text_of(output):
    if output.get("output_type") == "stream":
        return output.get("text", "")
    data = output.get("data", {})
    return data.get("text/plain", "") if isinstance(data.get("text/plain", ""), str) else ""


def run_one(path, kernel, timeout, save_dir):
    nb = nbformat.read(path, as_version=4)
    client_class = TslabNotebookClient if "tslab" in kernel else DenoNotebookClient
    client = client_class(
        nb,
        kernel_name=kernel,
        timeout=timeout,
        allow_errors=True,  # record every error, with its cell, instead of stopping at the first
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
    )
    start = time.perf_counter()
    fatal = None
    try:
        client.execute()
    except CellTimeoutError as err:
        fatal = f"a cell ran longer than {timeout} s: {str(err).splitlines()[0]}"
    except DeadKernelError as err:
        fatal = f"the kernel died: {err}"
    except CellExecutionError as err:  # not raised with allow_errors, kept for safety
        fatal = str(err)
    seconds = time.perf_counter() - start

    report = {
        "path": path,
        "cells": 0,
        "seconds": round(seconds, 2),
        "backend": None,
        "errors": [],
        "checks": [],
        "results": [],
    }
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        report["cells"] += 1
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                report["errors"].append({
                    "cell": index,
                    "ename": output.get("ename", ""),
                    "evalue": ANSI.sub("", output.get("evalue", "")),
                    "traceback": ANSI.sub("", "\n".join(output.get("traceback", [])))[-2000:],
                })
            match = BACKEND_LINE.search(text_of(output))
            if match and report["backend"] is None:
                report["backend"] = match.group(0).strip()
            if output.get("output_type") == "execute_result" and index not in report["results"]:
                report["results"].append(index)
            check = output.get("data", {}).get(CHECK_MIME)
            if check is not None:
                report["checks"].append({"cell": index, **check})
    if fatal:
        report["errors"].append({"cell": None, "ename": "ExecutionFailed", "evalue": fatal, "traceback": ""})
    if save_dir:
        os.makedirs(save_dir, exist_ok=True)
        target = os.path.join(save_dir, path.replace(os.sep, "__"))
        nbformat.write(nb, target + ".tmp")
        os.replace(target + ".tmp", target)
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--save-dir")
    parser.add_argument("notebooks", nargs="+")
    args = parser.parse_args()
    reports = []
    for path in args.notebooks:
        print(f"executing {path} …", file=sys.stderr, flush=True)
        reports.append(run_one(path, args.kernel, args.timeout, args.save_dir))
        r = reports[-1]
        status = "ok" if not r["errors"] else f"{len(r['errors'])} error(s)"
        print(f"  {r['cells']} code cells, {r['seconds']:.1f} s, {status}", file=sys.stderr, flush=True)
    json.dump(reports, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
