/**
 * The shell wrapper of an attempt, for Node's spawn (where the Python launcher cannot run): the
 * same steps as python/capstan_runtime/attempt_supervisor.py, in `sh`. It enters the working
 * folder, writes its pid, joins the attempt's cgroup, runs the command behind the task boundary's
 * argv prefix, and writes the exit status into the attempt's folder.
 */
import type { StartRequest } from "./start-request.js";
import { boundaryPrefix } from "./task-user.js";

/**
 * Enters the working folder and runs the command, then writes its exit status. The pid file is
 * written first so a restarted scheduler can find the group. The status is written in place (no
 * rename, which would cost a process): a reader that finds it empty treats the attempt as still
 * ending, and reads it again once the wrapper is gone. Arguments: attempt folder, working folder,
 * cgroup folder (or ""), then the command. The wrapper joins the cgroup (`echo 0` moves the writer).
 */
const WRAPPER = 'd=$1; cd "$2" || exit 126; cg=$3; shift 3; echo $$ > "$d/pid"; [ -z "$cg" ] || echo 0 > "$cg/cgroup.procs"; "$@"; rc=$?; echo $rc > "$d/status"; exit $rc';

/**
 * The wrapper with a log cap: arguments as WRAPPER, then the cap in bytes. The command's output goes
 * through a pipe to a writer that is part of the attempt (sh + head + wc: no scheduler, no Python;
 * head unbuffered through coreutils' stdbuf where it exists, so live logs see each write at once),
 * which keeps the first bytes, then a marker, and reads and drops the rest so the task never dies of
 * SIGPIPE. Only the command's side joins the cgroup; the wrapper and the writer stay out of it (and
 * the writer carries no attempt token) so that killing the attempt's leftovers when the command
 * ends lets the writer finish the log. With `cgroup.kill`, the command's side kills its own leftovers
 * itself right after writing the status, as they may hold the pipe open. The wrapper exits with the
 * command's own status.
 */
const CAPPED_WRAPPER = [
  // The wrapper's own stderr is closed once in the folder: it would report the command's side
  // ending by cgroup.kill ("Killed") into the log.
  'd=$1; cd "$2" || exit 126; exec 2>/dev/null; cg=$3; max=$4; shift 4; echo $$ > "$d/pid"',
  '{ [ -z "$cg" ] || echo 0 > "$cg/cgroup.procs"; "$@"; echo $? > "$d/status"; [ -z "$cg" ] || ! [ -f "$cg/cgroup.kill" ] || echo 1 > "$cg/cgroup.kill"; } 2>&1 | CAPSTAN_ATTEMPT_TOKEN= /bin/sh -c \'if command -v stdbuf >/dev/null; then stdbuf -o0 head -c "$1"; else head -c "$1"; fi; n=$(wc -c); [ "$n" -eq 0 ] || printf "\\n[capstan: log cut at %s bytes; the task went on running]\\n" "$1"\' capstan-log "$max"',
  'rc=; read rc < "$d/status"; exit "${rc:-125}"',
].join("\n");

/** The argv that runs an attempt through the shell wrapper. */
export function wrapperArgv(request: StartRequest): string[] {
  const boundary = request.boundary ? boundaryPrefix(request.boundary) : [];
  const cgroup = request.cgroup ?? "";
  const wrapper = request.maxLogBytes > 0
    ? ["/bin/sh", "-c", CAPPED_WRAPPER, "capstan-task", request.attemptDir, request.cwd, cgroup, String(request.maxLogBytes)]
    : ["/bin/sh", "-c", WRAPPER, "capstan-task", request.attemptDir, request.cwd, cgroup];
  return [...wrapper, ...boundary, ...request.argv];
}
