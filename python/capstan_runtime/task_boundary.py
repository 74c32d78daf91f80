"""The task boundary of Capstan's local executor, entered by a task process just before it execs.

The same view of the platform's home that src/executors/local/task-user.ts builds with unshare,
mount and setpriv (docs/security.md), made here with the system calls themselves, so a task costs
no extra processes:

- mode "user" (Capstan runs as root): a mount namespace of the task's own, an empty tmpfs over the
  home with only the attempt's folders mounted back, then the run_as user's groups, gid and uid
  (real, effective and saved) and no_new_privs;
- mode "namespace" (any other user): a user + mount namespace in which the process is root over its
  mounts, the same view of the home, then a second, nested user namespace mapping the platform's
  uid and gid back, in which the task holds no capability over those mounts (they are locked: it
  cannot unmount the cover, not even from a namespace of its own).

`BoundaryPlan` is worked out in the launcher; `enter` runs in the task's freshly forked,
single-threaded process. A failure raises BoundaryError, which the caller reports in the
attempt's log; the task does not run.
"""

import ctypes
import os

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
PR_SET_NO_NEW_PRIVS = 38

_libc = ctypes.CDLL(None, use_errno=True)
_libc.unshare.argtypes = [ctypes.c_int]
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


class BoundaryError(Exception):
    """The boundary could not be set up; the task must not run."""


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise BoundaryError(f"{what}: {os.strerror(errno)}")


def _unshare(flags, what):
    _check(_libc.unshare(flags), what)


def _mount(source, target, fstype, flags, data, what):
    """Arguments as bytes or None."""
    _check(_libc.mount(source, target, fstype, flags, data), what)


def _write_proc(name, text):
    fd = os.open(f"/proc/self/{name}", os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    except OSError as error:
        raise BoundaryError(f"writing /proc/self/{name}: {error.strerror}") from error
    finally:
        os.close(fd)


def _map_ids(inside_uid, outside_uid, inside_gid, outside_gid):
    """Maps one uid and one gid into the user namespace just made (setgroups denied, as unprivileged maps need)."""
    _write_proc("setgroups", "deny")
    _write_proc("uid_map", f"{inside_uid} {outside_uid} 1")
    _write_proc("gid_map", f"{inside_gid} {outside_gid} 1")


def validate(boundary):
    """Raises ValueError when a boundary request is malformed (checked before anything is forked)."""
    if boundary is None:
        return
    if not isinstance(boundary, dict) or boundary.get("mode") not in ("user", "namespace"):
        raise ValueError('boundary must be null or an object with mode "user" or "namespace"')
    for key in ("uid", "gid"):
        if not isinstance(boundary.get(key), int) or isinstance(boundary.get(key), bool) or boundary[key] < 0:
            raise ValueError(f"boundary.{key} must be a non-negative integer")
    if boundary["mode"] == "user" and boundary["uid"] == 0:
        raise ValueError("boundary.uid must not be root")
    home = boundary.get("home")
    if not isinstance(home, str) or not os.path.isabs(home) or "\0" in home:
        raise ValueError("boundary.home must be an absolute path")
    binds = boundary.get("binds")
    if not isinstance(binds, list) or not all(isinstance(b, str) and b and not os.path.isabs(b) and "\0" not in b and ".." not in b.split("/") for b in binds):
        raise ValueError("boundary.binds must be folders relative to the home, inside it")
    user = boundary.get("user")
    if user is not None and (not isinstance(user, str) or "\0" in user):
        raise ValueError("boundary.user must be a user name or null")


class BoundaryPlan:
    """The boundary of one attempt, worked out in the launcher before the fork (the groups from the user database)."""

    __slots__ = ("mode", "uid", "gid", "groups", "home", "folders", "binds", "here")

    def __init__(self, boundary, cwd):
        self.mode = boundary["mode"]
        self.uid = boundary["uid"]
        self.gid = boundary["gid"]
        # The run_as user's groups as initgroups gives them; none for uid:gid.
        user = boundary.get("user")
        self.groups = os.getgrouplist(user, self.gid) if self.mode == "user" and user is not None else []
        self.home = boundary["home"]
        # The mount points to make in the tmpfs, parents first, and each folder's (inside, mount point).
        self.folders = []
        for inside in boundary["binds"]:
            parts = inside.split("/")
            for depth in range(1, len(parts) + 1):
                folder = os.path.join(self.home, *parts[:depth])
                if folder not in self.folders:
                    self.folders.append(folder)
        self.binds = [(os.fsencode(inside), os.fsencode(os.path.join(self.home, inside))) for inside in boundary["binds"]]
        # The working folder is entered again through the new view, by its physical path.
        self.here = os.path.realpath(cwd)


def enter(plan):
    """Covers the home and drops to the task's user (in the task's process, before its exec)."""
    home = plan.home
    if plan.mode == "namespace":
        _unshare(CLONE_NEWUSER | CLONE_NEWNS, "unshare (user and mount namespace)")
        _map_ids(0, plan.uid, 0, plan.gid)
    else:
        _unshare(CLONE_NEWNS, "unshare (mount namespace)")
    _mount(None, b"/", None, MS_REC | MS_PRIVATE, None, "making mounts private")
    # The folders to mount back are reached through a descriptor opened before the cover.
    try:
        below = os.open(home, os.O_PATH | os.O_DIRECTORY)
    except OSError as error:
        raise BoundaryError(f"opening {home}: {error.strerror}") from error
    try:
        _mount(b"capstan-home", os.fsencode(home), b"tmpfs", 0, b"mode=0755,size=1m", f"mounting a tmpfs over {home}")
        for folder in plan.folders:
            os.mkdir(folder)
        source = b"/proc/self/fd/%d/" % below
        for inside, target in plan.binds:
            _mount(source + inside, target, None, MS_BIND, None, f"mounting {os.fsdecode(target)} back")
    finally:
        os.close(below)
    try:
        os.chdir(plan.here)
    except OSError:
        raise BoundaryError(f"the working folder {plan.here} is not visible to tasks") from None
    if plan.mode == "namespace":
        _unshare(CLONE_NEWUSER, "unshare (nested user namespace)")
        _map_ids(plan.uid, 0, plan.gid, 0)
        return
    os.setgroups(plan.groups)
    os.setresgid(plan.gid, plan.gid, plan.gid)
    os.setresuid(plan.uid, plan.uid, plan.uid)
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "setting no_new_privs")
