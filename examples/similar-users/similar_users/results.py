"""Published results: one folder per version under a results root, and a ``latest`` pointer
moved atomically (a symlink replaced by rename; a one-line file naming the version where the
file system has no symlinks). Readers resolve either form."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

from .errors import StageError

LATEST = "latest"
MANIFEST = "manifest.json"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:60] or "run"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def publish(root: Path, files: dict[str, Path], manifest: dict[str, object], now: datetime | None = None) -> tuple[str, Path]:
    """Copies ``files`` (name in the version folder -> source) into a new version folder with
    ``manifest``, then points ``latest`` at it. A reader never sees a half-written version:
    the folder is filled under a hidden name and renamed into place."""
    now = now or datetime.now(timezone.utc)
    try:
        root.mkdir(parents=True, exist_ok=True)
        base = f"{now:%Y%m%dT%H%M%SZ}-{_safe(str(manifest.get('run_id') or 'manual'))}"
        version, n = base, 1
        while (root / version).exists():
            n += 1
            version = f"{base}-{n}"
        staging = root / f".staging-{version}-{os.getpid()}"
        staging.mkdir()
        listed = {}
        for name, source in files.items():
            shutil.copyfile(source, staging / name)
            listed[name] = {"bytes": (staging / name).stat().st_size, "sha256": _sha256(staging / name)}
        full = {"version": version, "created_at": now.isoformat(), **manifest, "files": listed}
        (staging / MANIFEST).write_text(json.dumps(full, indent=2, sort_keys=True))
        os.rename(staging, root / version)
        _point_latest(root, version)
    except OSError as error:
        raise StageError(f"cannot publish under {root}: {error}") from error
    return version, root / version


def _point_latest(root: Path, version: str) -> None:
    tmp = root / f".{LATEST}-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    try:
        os.symlink(version, tmp, target_is_directory=True)
    except OSError:
        tmp.write_text(version + "\n")
    os.replace(tmp, root / LATEST)


def resolve(results: str | Path) -> Path:
    """The version folder named by ``results``: a version folder itself, or a results root
    whose ``latest`` pointer names one."""
    path = Path(results)
    if (path / MANIFEST).is_file():
        return path
    pointer = path / LATEST
    if pointer.is_symlink() or pointer.is_dir():
        target = pointer.resolve()
    elif pointer.is_file():
        target = path / pointer.read_text().strip()
    else:
        raise StageError(
            f"no published results in {path}: neither {MANIFEST} nor a '{LATEST}' pointer is there "
            "(run the pipeline's publish task, or pass a version folder)"
        )
    if not (target / MANIFEST).is_file():
        raise StageError(f"'{LATEST}' in {path} points to {target}, which holds no {MANIFEST}")
    return target
