"""A fork server for warm Jupyter kernels.

Starting an ipykernel costs about half a second of CPU, most of it importing IPython, ipykernel and
jupyter_client. This process imports them once; each kernel of the warm pool is then a fork of it,
which starts in a few tens of milliseconds. A forked kernel gets a session of its own, the working
folder, environment, sys.path[0] and argv that `python -m ipykernel_launcher` would have, a fresh
random seed and its own log file. Nothing here ever runs user code, so a fork starts from the same
state as a cold start (only the string hash seed is shared, as with a fixed PYTHONHASHSEED).

Protocol, one JSON object per line:
  stdin   {"id": N, "args": [...], "cwd": PATH, "env": {...}, "log": PATH}
  stdout  {"ready": PID} once, then {"id": N, "pid": PID} or {"id": N, "error": TEXT}
The server exits when stdin closes; its kernels live on in their own sessions.
"""

import json
import os
import signal
import sys
import traceback

import importlib
import threading

# The imports a kernel start spends its time on (IPython, ipykernel, jupyter_client, the debugger);
# importing them creates no thread and no ZeroMQ context, so forking afterwards is safe.
_WARM_MODULES = [
    "IPython.core.interactiveshell",
    "IPython.core.history",
    "IPython.core.debugger",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.iostream",
    "ipykernel.heartbeat",
    "ipykernel.control",
    "ipykernel.eventloops",
    "ipykernel.debugger",
    "jupyter_client.session",
    "tornado.ioloop",
    "debugpy",
    "pdb",
    "sqlite3",
    "pydoc",
]
_environ_before = dict(os.environ)
for _name in _WARM_MODULES:
    try:
        importlib.import_module(_name)
    except ImportError:
        pass
# Variables the imports set (debugpy sets PYDEVD_USE_FRAME_EVAL, for one): a cold kernel has them too.
_ENV_FROM_IMPORTS = {k: v for k, v in os.environ.items() if _environ_before.get(k) != v}
if threading.active_count() != 1:
    sys.stderr.write("kernel fork server: an import started a thread; forking would not be safe\n")
    sys.exit(3)


def _reap(_signum, _frame):
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _run_kernel(request):
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setsid()
    null = os.open(os.devnull, os.O_RDONLY)
    log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    for key, value in _ENV_FROM_IMPORTS.items():
        os.environ.setdefault(key, value)
    # As `python -m ipykernel_launcher` would have them.
    sys.path[0] = os.getcwd()
    sys.argv = ["ipykernel_launcher", *request["args"]]
    if "random" in sys.modules:
        sys.modules["random"].seed()
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


def main():
    signal.signal(signal.SIGCHLD, _reap)
    sys.stdout.write(json.dumps({"ready": os.getpid()}) + "\n")
    sys.stdout.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError as error:
            sys.stdout.write(json.dumps({"id": request["id"], "error": str(error)}) + "\n")
            sys.stdout.flush()
            continue
        if pid == 0:
            code = 0
            try:
                _run_kernel(request)
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 0
            except BaseException:  # noqa: BLE001 - the kernel's log gets the reason
                traceback.print_exc()
                code = 1
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(code)
        sys.stdout.write(json.dumps({"id": request["id"], "pid": pid}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
