"""The process that stands for one attempt of Capstan's local executor: a fork of the launcher.

It does what the executor's shell wrapper does where no launcher runs (src/executors/local/
attempt-wrapper.ts), without starting a shell or any other program:

- it leads a session and process group of its own (its pid is the attempt's pid, which the
  launcher has written to the attempt's `pid` file);
- it waits for the launcher's word that the pid is recorded (if the launcher dies first, it exits
  without running the task, so an unanswered launch never runs behind the executor's back);
- it forks the task, which joins the attempt's cgroup, enters the task boundary and execs the
  command with the attempt's environment (searching PATH as a shell does);
- with a log cap, the task's stdout and stderr come through a pipe: the first `max_log` bytes go to
  the log, then a marker, and the rest is read and dropped, so the task never dies of SIGPIPE; each
  read is written at once, so a running task's log can be followed live;
- it writes the task's exit status to the attempt's `status` file (128 + N for a signal, as a shell
  does) and exits with it; with a cap and `cgroup.kill`, it kills the attempt's leftovers right
  after, as they may hold the log pipe open.

Both processes are forks of the launcher, and every page of it they write is copied: they run as
little Python as they can. `AttemptPlan` is worked out in the launcher before the fork (paths,
environment, where the command may be), and the signal calls go to `_signal` directly, without the
enum conversions of `signal`. Everything ends in an exec or os._exit: nothing of the launcher's
state (its stdout, its buffers) is used here.
"""

import os
import select

import _signal

from capstan_runtime import task_boundary

_SIG_DFL = _signal.SIG_DFL
# Signals Python ignores or handles itself, given back their defaults before the task execs.
_RESET_SIGNALS = (_signal.SIGPIPE, _signal.SIGXFSZ, _signal.SIGINT, _signal.SIGTERM, _signal.SIGCHLD)


class AttemptPlan:
    """One attempt, worked out before the fork."""

    __slots__ = ("argv", "env", "programs", "cwd", "status", "cgroup_procs", "cgroup_kill", "max_log", "marker", "boundary")

    def __init__(self, request, boundary):
        argv = request["argv"]
        env = dict(request["env"])
        # The working folder as the task sees it (physical where the boundary re-enters it).
        env["PWD"] = boundary.here if boundary is not None else request["cwd"]
        self.argv = argv
        self.env = env
        self.programs = _candidates(argv[0], env)
        self.cwd = request["cwd"]
        self.status = os.path.join(request["dir"], "status")
        cgroup = request["cgroup"]
        self.cgroup_procs = os.path.join(cgroup, "cgroup.procs") if cgroup else None
        kill = os.path.join(cgroup, "cgroup.kill") if cgroup else None
        self.cgroup_kill = kill if kill is not None and os.path.exists(kill) else None
        self.max_log = request["max_log"]
        self.marker = f"\n[capstan: log cut at {self.max_log} bytes; the task went on running]\n".encode()
        self.boundary = boundary


def _candidates(program, env):
    """Where the command's program may be, in PATH order (as execvp searches); existing files first checked here."""
    if "/" in program:
        return [program]
    found = []
    for folder in env.get("PATH", os.defpath).split(os.pathsep):
        path = os.path.join(folder, program)
        if os.path.isfile(path):
            found.append(path)
    # Nothing found here: let the task's own exec say so (ENOENT).
    return found or [program]


def _say(fd, text):
    try:
        os.write(fd, f"capstan: {text}\n".encode(errors="replace"))
    except OSError:
        pass


def _write(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _exec(plan):
    """Execs the first program that runs, as execvp does (a file without #! runs under /bin/sh); returns the exit code if none does."""
    failure = None
    for path in plan.programs:
        try:
            os.execve(path, plan.argv, plan.env)
        except OSError as error:
            if error.errno == 8:  # ENOEXEC: a script without #!
                try:
                    os.execve("/bin/sh", ["/bin/sh", path, *plan.argv[1:]], plan.env)
                except OSError as shell_error:
                    error = shell_error
            if failure is None or failure.errno in (2, 20):
                failure = error
    _say(2, f"{plan.argv[0]}: {failure.strerror if failure else 'not found'}")
    return 127 if failure is None or failure.errno in (2, 20) else 126


def _run_task(plan, out_fd):
    """In the task's process: never returns."""
    code = 126
    try:
        _signal.set_wakeup_fd(-1)
        for number in _RESET_SIGNALS:
            _signal.signal(number, _SIG_DFL)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        if plan.cgroup_procs is not None:
            fd = os.open(plan.cgroup_procs, os.O_WRONLY)
            os.write(fd, b"0")
            os.close(fd)
        if plan.boundary is not None:
            task_boundary.enter(plan.boundary)
        code = _exec(plan)
    except task_boundary.BoundaryError as error:
        _say(2, str(error))
    except BaseException as error:  # noqa: BLE001 - whatever it is, the task does not run
        _say(2, f"{type(error).__name__}: {error}")
    os._exit(code)


def _status_of(wait_status):
    if os.WIFEXITED(wait_status):
        return os.WEXITSTATUS(wait_status)
    if os.WIFSIGNALED(wait_status):
        return 128 + os.WTERMSIG(wait_status)
    return 125


def _ended(plan, wait_status):
    code = _status_of(wait_status)
    _write(plan.status, b"%d\n" % code)
    return code


def _supervise_capped(plan, pid, reader, log_fd, wake_fd):
    """Copies the task's output to the log up to the cap while waiting for the task; returns its status."""
    limit = plan.max_log
    kept = 0
    dropped = 0
    code = None
    watched = [reader, wake_fd]
    while watched:
        readable = select.select(watched, [], [])[0]
        if wake_fd in readable:
            try:
                os.read(wake_fd, 512)
            except BlockingIOError:
                pass
            done, wait_status = os.waitpid(pid, os.WNOHANG)
            if done == pid:
                watched.remove(wake_fd)
                code = _ended(plan, wait_status)
                if plan.cgroup_kill is not None:
                    try:
                        _write(plan.cgroup_kill, b"1")
                    except OSError:
                        pass
        if reader in readable:
            chunk = os.read(reader, 65536)
            if not chunk:
                watched.remove(reader)
            elif kept >= limit:
                dropped += len(chunk)
            else:
                head = chunk[: limit - kept]
                os.write(log_fd, head)
                kept += len(head)
                dropped += len(chunk) - len(head)
    if dropped > 0:
        os.write(log_fd, plan.marker)
    return code


def supervise(plan, log_fd, go_fd):
    """In the attempt's process, right after the fork: never returns."""
    code = 125
    try:
        os.setsid()
        _signal.signal(_signal.SIGINT, _SIG_DFL)
        _signal.signal(_signal.SIGTERM, _SIG_DFL)
        _signal.signal(_signal.SIGCHLD, _SIG_DFL)
        _signal.set_wakeup_fd(-1)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.dup2(log_fd, 2)
        os.close(null)
        # The launcher has recorded the pid (or died: then the task must not run).
        if os.read(go_fd, 1) != b"g":
            os._exit(125)
        os.close(go_fd)
        try:
            os.chdir(plan.cwd)
        except OSError as error:
            _say(log_fd, f"cd: {plan.cwd}: {error.strerror}")
            os._exit(126)
        if plan.max_log == 0:
            pid = os.fork()
            if pid == 0:
                _run_task(plan, log_fd)
            code = _ended(plan, os.waitpid(pid, 0)[1])
            os._exit(code)
        # The task's end wakes the copy loop through SIGCHLD (set before the fork: it may end at once).
        wake_read, wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        _signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
        _signal.signal(_signal.SIGCHLD, _ignore)
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:
            _run_task(plan, writer)
        os.close(writer)
        code = _supervise_capped(plan, pid, reader, log_fd, wake_read)
    except BaseException as error:  # noqa: BLE001 - reported in the log; the attempt fails
        _say(log_fd, f"the attempt's supervisor failed: {type(error).__name__}: {error}")
    os._exit(code)


def _ignore(_number, _frame):
    """SIGCHLD's handler: its only work is the wakeup byte."""
