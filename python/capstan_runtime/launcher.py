"""The process launcher of Capstan's local executor.

The scheduler is a large Node process; forking it for every task costs milliseconds that grow with
its memory. This small process starts task processes for it with posix_spawn (vfork-based, so the
cost does not depend on anyone's memory), each in its own session, and reports their exits.

Protocol, one JSON object per line:
  stdin   {"id": N, "argv": [...], "env": {...}, "log": PATH}
  stdout  {"id": N, "pid": PID}  or  {"id": N, "error": TEXT}
          {"exit": PID, "code": C}  or  {"exit": PID, "signal": S}
When stdin closes (the scheduler stopped or died) the launcher exits; the task processes keep
running in their own sessions and a restarted scheduler adopts them.
"""

import json
import os
import sys
import threading

_write_lock = threading.Lock()
_children = threading.Condition()
_running = 0


def _emit(message):
    line = json.dumps(message) + "\n"
    with _write_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


def _reap():
    global _running
    while True:
        with _children:
            while _running == 0:
                _children.wait()
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            continue
        except InterruptedError:
            continue
        with _children:
            _running -= 1
        if os.WIFEXITED(status):
            _emit({"exit": pid, "code": os.WEXITSTATUS(status)})
        elif os.WIFSIGNALED(status):
            _emit({"exit": pid, "signal": os.WTERMSIG(status)})


def _spawn(request):
    global _running
    log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        actions = [
            (os.POSIX_SPAWN_DUP2, null, 0),
            (os.POSIX_SPAWN_DUP2, log, 1),
            (os.POSIX_SPAWN_DUP2, log, 2),
        ]
        with _children:
            pid = os.posix_spawn(request["argv"][0], request["argv"], request["env"], file_actions=actions, setsid=True)
            _running += 1
            _children.notify()
        return pid
    finally:
        os.close(log)
        os.close(null)


def main():
    threading.Thread(target=_reap, name="reaper", daemon=True).start()
    _emit({"ready": os.getpid()})
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            _emit({"id": request["id"], "pid": _spawn(request)})
        except OSError as error:
            _emit({"id": request["id"], "error": f"{error.strerror or error} ({request['argv'][0]})"})


if __name__ == "__main__":
    main()
