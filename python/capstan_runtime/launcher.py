"""The process launcher of Capstan's local executor.

The scheduler is a large Node process; forking it for every task costs milliseconds that grow with
its memory. This small process starts attempts for it instead: each attempt is a fork of the
launcher (attempt_supervisor.py) that leads a session of its own, forks the task, which enters the
task boundary (task_boundary.py) and execs the command, writes the task's exit status to the
attempt's folder and caps its log. No shell, unshare, mount or setpriv is started: an attempt costs
two forks of this small process and the exec of the command itself.

Protocol, one JSON object per line:
  stdin   {"id": N, "argv": [...], "env": {...}, "log": PATH, "dir": ATTEMPT_DIR, "cwd": PATH,
           "cgroup": PATH or null, "max_log": BYTES (0: no cap),
           "boundary": null or {"mode": "user" | "namespace", "uid": U, "gid": G,
                                "user": NAME or null, "home": PATH, "binds": [FOLDER, ...]}}
  stdout  {"ready": PID, "subreaper": BOOL} once, then
          {"id": N, "pid": PID}  or  {"id": N, "error": TEXT}
          {"exit": PID, "code": C}  or  {"exit": PID, "signal": S}
          {"error": TEXT}  for a line that names no request id
A bad request (unreadable JSON, a NUL byte in a value, a folder that does not exist) gets an error
answer for that request alone; the launcher keeps serving the others. A command that cannot be run
is the attempt's failure: exit code 127 (126 when it cannot be executed), the reason in its log.

The pid answered is the attempt's process, which the launcher writes to `DIR/pid` before it lets
the attempt go on: if the launcher dies first, the attempt exits without running its task.

The launcher makes itself a child subreaper (PR_SET_CHILD_SUBREAPER) where Linux allows it: a task
process that double-forks or calls setsid and loses its parent is re-parented here instead of to
init, reaped here when it ends, and never reported (only the attempts started on request are).
The scheduler finds and kills such leftovers by the attempt token in their environment.

When stdin closes (the scheduler stopped or died) the launcher exits; the attempts keep running in
their own sessions and a restarted scheduler adopts them.
"""

import json
import os
import select
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from capstan_runtime import attempt_supervisor, task_boundary  # noqa: E402

# One thread only, and no `threading` import: its fork handlers alone make every fork of this
# process cost three times as much. Exits are seen through SIGCHLD, whose handler wakes the main
# loop through a pipe (signal.set_wakeup_fd).

# Pids started on request whose exit is not yet reported; orphans re-parented here are not in it.
_started = set()

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
    data = (json.dumps(message) + "\n").encode()
    try:
        while data:
            data = data[os.write(1, data) :]
    except BrokenPipeError:
        # The scheduler is gone: so is the reader of every answer. The attempts run on.
        os._exit(0)


def _reap():
    """Reports the exits of the attempts started on request; reaps re-parented orphans silently."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid not in _started:
            continue  # an orphan re-parented to this subreaper
        _started.discard(pid)
        if os.WIFEXITED(status):
            _emit({"exit": pid, "code": os.WEXITSTATUS(status)})
        elif os.WIFSIGNALED(status):
            _emit({"exit": pid, "signal": os.WTERMSIG(status)})


def _text(value, name, absolute=False):
    if not isinstance(value, str) or (absolute and not os.path.isabs(value)):
        raise ValueError(f"{name} must be {'an absolute path' if absolute else 'a string'}")
    if "\0" in value:
        raise ValueError(f"{name}: embedded null byte")
    return value


def _validate(request):
    argv = request.get("argv")
    env = request.get("env")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise ValueError("argv must be a non-empty list of strings")
    for index, arg in enumerate(argv):
        _text(arg, f"argument {index}")
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise ValueError("env must map strings to strings")
    for key, value in env.items():
        if "=" in key or not key:
            raise ValueError(f"environment variable name {key!r} is not valid")
        _text(key, "an environment variable's name")
        _text(value, f"environment variable {key}")
    _text(request.get("log"), "log")
    _text(request.get("dir"), "dir", absolute=True)
    _text(request.get("cwd"), "cwd")
    if request.get("cgroup") is not None:
        _text(request["cgroup"], "cgroup", absolute=True)
    limit = request.get("max_log")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise ValueError("max_log must be a non-negative integer")
    task_boundary.validate(request.get("boundary"))


def _start(request):
    """Forks the attempt and records its pid; returns the pid."""
    _validate(request)
    boundary = request["boundary"]
    plan = attempt_supervisor.AttemptPlan(request, task_boundary.BoundaryPlan(boundary, request["cwd"]) if boundary is not None else None)
    log_fd = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    pid_path = os.path.join(request["dir"], "pid")
    go_read, go_write = os.pipe()
    try:
        pid = os.fork()
        if pid == 0:
            os.close(go_write)
            attempt_supervisor.supervise(plan, log_fd, go_read)
        _started.add(pid)
        os.close(go_read)
        go_read = -1
        try:
            fd = os.open(pid_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
            try:
                os.write(fd, f"{pid}\n".encode())
            finally:
                os.close(fd)
        except OSError:
            # Without its pid on record the attempt must not run: closing the pipe stops it, and
            # its exit is not reported (the request is answered with the error).
            _started.discard(pid)
            os.close(go_write)
            go_write = -1
            raise
        os.write(go_write, b"g")
        return pid
    finally:
        os.close(log_fd)
        for fd in (go_read, go_write):
            if fd >= 0:
                os.close(fd)


def _describe(error, request):
    program = ""
    if isinstance(request, dict) and isinstance(request.get("argv"), list) and request["argv"]:
        program = f" ({request['argv'][0]})"
    if isinstance(error, OSError):
        where = f": {error.filename}" if error.filename else ""
        return f"{error.strerror or error}{where}{program}"
    return f"{type(error).__name__}: {error}{program}"


def _serve(line):
    request = None
    try:
        request = json.loads(line)
        if not isinstance(request, dict) or not isinstance(request.get("id"), int):
            raise ValueError("a request must be a JSON object with an integer id")
        _emit({"id": request["id"], "pid": _start(request)})
    except Exception as error:  # noqa: BLE001 - one bad request must not stop the others
        answer = {"error": _describe(error, request)}
        if isinstance(request, dict) and isinstance(request.get("id"), int):
            answer["id"] = request["id"]
        _emit(answer)


def main():
    subreaper = _become_subreaper()
    wake_read, wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
    signal.signal(signal.SIGCHLD, lambda _number, _frame: None)
    _emit({"ready": os.getpid(), "subreaper": subreaper})
    pending = b""
    while True:
        readable, _, _ = select.select([0, wake_read], [], [])
        if wake_read in readable:
            try:
                while os.read(wake_read, 512):
                    pass
            except BlockingIOError:
                pass
            _reap()
        if 0 in readable:
            chunk = os.read(0, 65536)
            if not chunk:
                if pending.strip():
                    _serve(pending)
                return
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                if line.strip():
                    _serve(line)
            # Exits that came in while serving are reported before the next wait.
            _reap()


if __name__ == "__main__":
    main()
