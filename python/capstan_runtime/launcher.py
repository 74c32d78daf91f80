"""The process launcher of Capstan's local executor.

The scheduler is a large Node process; forking it for every task costs milliseconds that grow with
its memory. This small process starts task processes for it with posix_spawn (vfork-based, so the
cost does not depend on anyone's memory), each in its own session, and reports their exits.

Protocol, one JSON object per line:
  stdin   {"id": N, "argv": [...], "env": {...}, "log": PATH}
  stdout  {"id": N, "pid": PID}  or  {"id": N, "error": TEXT}
          {"exit": PID, "code": C}  or  {"exit": PID, "signal": S}
          {"error": TEXT}  for a line that names no request id
A bad request (unreadable JSON, a NUL byte in a value, a missing program) gets an error answer for
that request alone; the launcher keeps serving the others.

The launcher makes itself a child subreaper (PR_SET_CHILD_SUBREAPER) where Linux allows it: a task
process that double-forks or calls setsid and loses its parent is re-parented here instead of to
init, reaped here when it ends, and never reported (only the processes started on request are).
The scheduler finds and kills such leftovers by the attempt token in their environment.

When stdin closes (the scheduler stopped or died) the launcher exits; the task processes keep
running in their own sessions and a restarted scheduler adopts them.
"""

import json
import os
import sys
import threading

_write_lock = threading.Lock()
_children = threading.Condition()
# Pids started on request whose exit is not yet reported; orphans re-parented here are not in it.
_started = set()
# Bumped on every start, so the reaper knows a child may exist again.
_generation = 0

PR_SET_CHILD_SUBREAPER = 36


def _become_subreaper():
    """True when this process now adopts orphaned descendants (Linux only)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except Exception:  # noqa: BLE001 - any failure means: no subreaper
        return False


def _emit(message):
    line = json.dumps(message) + "\n"
    with _write_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


def _reap():
    while True:
        with _children:
            generation = _generation
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            # No child at all: sleep until something is started.
            with _children:
                while _generation == generation:
                    _children.wait()
            continue
        except InterruptedError:
            continue
        with _children:
            ours = pid in _started
            _started.discard(pid)
        if not ours:
            continue  # an orphan re-parented to this subreaper
        if os.WIFEXITED(status):
            _emit({"exit": pid, "code": os.WEXITSTATUS(status)})
        elif os.WIFSIGNALED(status):
            _emit({"exit": pid, "signal": os.WTERMSIG(status)})


def _spawn(request):
    global _generation
    argv = request["argv"]
    env = request["env"]
    log = request["log"]
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise ValueError("argv must be a non-empty list of strings")
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise ValueError("env must map strings to strings")
    if not isinstance(log, str):
        raise ValueError("log must be a path")
    log_fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        actions = [
            (os.POSIX_SPAWN_DUP2, null, 0),
            (os.POSIX_SPAWN_DUP2, log_fd, 1),
            (os.POSIX_SPAWN_DUP2, log_fd, 2),
        ]
        with _children:
            pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setsid=True)
            _started.add(pid)
            _generation += 1
            _children.notify()
        return pid
    finally:
        os.close(log_fd)
        os.close(null)


def _describe(error, request):
    program = ""
    if isinstance(request, dict) and isinstance(request.get("argv"), list) and request["argv"]:
        program = f" ({request['argv'][0]})"
    if isinstance(error, OSError):
        return f"{error.strerror or error}{program}"
    return f"{type(error).__name__}: {error}{program}"


def _serve(line):
    request = None
    try:
        request = json.loads(line)
        if not isinstance(request, dict) or not isinstance(request.get("id"), int):
            raise ValueError("a request must be a JSON object with an integer id")
        _emit({"id": request["id"], "pid": _spawn(request)})
    except Exception as error:  # noqa: BLE001 - one bad request must not stop the others
        answer = {"error": _describe(error, request)}
        if isinstance(request, dict) and isinstance(request.get("id"), int):
            answer["id"] = request["id"]
        _emit(answer)


def main():
    subreaper = _become_subreaper()
    threading.Thread(target=_reap, name="reaper", daemon=True).start()
    _emit({"ready": os.getpid(), "subreaper": subreaper})
    for line in sys.stdin.buffer:
        if line.strip():
            _serve(line)


if __name__ == "__main__":
    main()
