"""Seeded generator of restaurant visit logs with a known answer.

Planted structure:
- users are split evenly into taste groups at random;
- each group prefers a set of ``set_size`` restaurants; 80% of a set belongs to that group
  alone and 20% is shared, each shared restaurant with exactly one other group (so every
  group's set overlaps the other groups' sets by 20%);
- within its set a group's preference falls off gently with rank (weights 1/rank^0.5);
- each user makes 5 to 200 visits (log-normal, heavy-tailed, scaled so the total is close to
  the preset's number of visits); a share of 30-70% of each user's visits (rounded up) is
  noise drawn from global popularity, a Zipf law with s = 1.1 over all restaurants in a
  random order, so popular restaurants are visited by every group.

The visit logs are written as date partitions ``visits/date=YYYY-MM-DD/part-0.parquet`` (or
``.csv``) with the columns user_id, restaurant_id, visited_at, exactly what real logs must
look like; the answer goes to ``truth/`` beside them and is read only by the evaluate stage.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

OVERLAP = 0.2
NOISE_SHARE = (0.3, 0.7)
ZIPF_S = 1.1
VISITS_PER_USER = (5, 200)
VISITS_SIGMA = 1.0
GROUP_PREFERENCE_EXPONENT = 0.5


@dataclass(frozen=True)
class Preset:
    """Sizes of one generated data set."""

    users: int
    restaurants: int
    visits: int
    groups: int
    set_size: int


PRESETS: dict[str, Preset] = {
    "tiny": Preset(users=600, restaurants=400, visits=24_000, groups=8, set_size=30),
    "small": Preset(users=5_000, restaurants=2_000, visits=200_000, groups=40, set_size=40),
    "full": Preset(users=50_000, restaurants=10_000, visits=2_000_000, groups=200, set_size=40),
}


@dataclass
class Generated:
    """A generated data set in memory (indices, not ids)."""

    preset: Preset
    seed: int
    user_group: np.ndarray  # group of each user
    group_sets: np.ndarray  # groups x set_size restaurant indices
    group_weights: np.ndarray  # groups x set_size preference weights (rows sum to 1)
    popularity: np.ndarray  # restaurants, the Zipf noise distribution
    visits_per_user: np.ndarray
    noise_per_user: np.ndarray
    visit_user: np.ndarray
    visit_restaurant: np.ndarray
    visit_is_noise: np.ndarray
    visit_day: np.ndarray  # 0 .. days-1
    visit_second: np.ndarray  # second of the day


def user_ids(n: int) -> np.ndarray:
    return np.array([f"u{i:06d}" for i in range(n)], dtype=object)


def restaurant_ids(n: int) -> np.ndarray:
    return np.array([f"r{i:05d}" for i in range(n)], dtype=object)


def _group_sets(rng: np.random.Generator, p: Preset) -> np.ndarray:
    shared = 2 * round(p.set_size * OVERLAP / 2)
    exclusive = p.set_size - shared
    needed = p.groups * exclusive + p.groups * shared // 2
    if needed > p.restaurants:
        raise ValueError(f"{p.groups} groups of {p.set_size} need {needed} restaurants, have {p.restaurants}")
    if shared and shared // 2 > (p.groups - 1) // 2:
        raise ValueError(f"{p.groups} groups are too few to share {shared} restaurants each")
    order = rng.permutation(p.restaurants)
    sets = np.empty((p.groups, p.set_size), dtype=np.int64)
    sets[:, :exclusive] = order[: p.groups * exclusive].reshape(p.groups, exclusive)
    # Shared restaurants: group a shares one restaurant with group a+d for each of shared/2
    # distinct offsets d (never d and groups-d both), so every group has exactly `shared`.
    pool = iter(order[p.groups * exclusive :])
    offsets = rng.choice(np.arange(1, (p.groups - 1) // 2 + 1), size=shared // 2, replace=False)
    fill = np.full(p.groups, exclusive)
    for d in offsets:
        for a in range(p.groups):
            r = next(pool)
            b = (a + int(d)) % p.groups
            sets[a, fill[a]] = r
            fill[a] += 1
            sets[b, fill[b]] = r
            fill[b] += 1
    for g in range(p.groups):
        sets[g] = rng.permutation(sets[g])  # the rank inside a group is random
    return sets


def _visit_counts(rng: np.random.Generator, p: Preset) -> np.ndarray:
    low, high = VISITS_PER_USER
    z = rng.standard_normal(p.users)

    def counts(median: float) -> np.ndarray:
        return np.clip(np.rint(median * np.exp(VISITS_SIGMA * z)), low, high).astype(np.int64)

    lo, hi = float(low), float(high)
    for _ in range(60):  # bisection on the median so the total is close to the preset's
        mid = (lo + hi) / 2
        if counts(mid).sum() < p.visits:
            lo = mid
        else:
            hi = mid
    return counts(hi)


def generate(preset: Preset, seed: int, days: int) -> Generated:
    """Generates the planted structure and the visits, deterministically from ``seed``."""
    rng = np.random.default_rng(seed)
    p = preset
    sets = _group_sets(rng, p)
    ranks = np.arange(1, p.set_size + 1, dtype=np.float64)
    weights = 1.0 / ranks**GROUP_PREFERENCE_EXPONENT
    weights /= weights.sum()
    group_weights = np.tile(weights, (p.groups, 1))

    popularity = 1.0 / np.arange(1, p.restaurants + 1, dtype=np.float64) ** ZIPF_S
    popularity /= popularity.sum()
    popularity = popularity[np.argsort(rng.permutation(p.restaurants))]

    user_group = rng.permutation(np.arange(p.users) % p.groups)
    n_visits = _visit_counts(rng, p)
    share = rng.uniform(*NOISE_SHARE, size=p.users)
    n_noise = np.minimum(np.ceil(share * n_visits).astype(np.int64), n_visits)
    n_signal = n_visits - n_noise

    # Signal: each visit picks from its user's group set by the group's weights.
    signal_user = np.repeat(np.arange(p.users), n_signal)
    g = user_group[signal_user]
    cdf = np.cumsum(group_weights, axis=1)
    cdf[:, -1] = 1.0
    flat = (cdf + np.arange(p.groups)[:, None]).ravel()
    pos = np.searchsorted(flat, g + rng.random(len(g)) * (1 - 1e-12), side="right")
    signal_restaurant = sets.ravel()[pos]
    # Noise: global popularity.
    noise_user = np.repeat(np.arange(p.users), n_noise)
    noise_restaurant = rng.choice(p.restaurants, size=len(noise_user), p=popularity)

    visit_user = np.concatenate([signal_user, noise_user])
    visit_restaurant = np.concatenate([signal_restaurant, noise_restaurant])
    is_noise = np.concatenate([np.zeros(len(signal_user), bool), np.ones(len(noise_user), bool)])
    shuffle = rng.permutation(len(visit_user))
    return Generated(
        preset=p,
        seed=seed,
        user_group=user_group,
        group_sets=sets,
        group_weights=group_weights,
        popularity=popularity,
        visits_per_user=n_visits,
        noise_per_user=n_noise,
        visit_user=visit_user[shuffle],
        visit_restaurant=visit_restaurant[shuffle],
        visit_is_noise=is_noise[shuffle],
        visit_day=rng.integers(0, days, size=len(shuffle)),
        visit_second=rng.integers(0, 86_400, size=len(shuffle)),
    )


def _write_atomically(table: "pa.Table", path: Path, fmt: str) -> None:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    if fmt == "parquet":
        pq.write_table(table, tmp)
    else:
        pacsv.write_csv(table, tmp)
    os.replace(tmp, path)


def write(data: Generated, out: Path, end_date: date, days: int, fmt: str = "parquet") -> dict[str, object]:
    """Writes the visit partitions and the truth tables under ``out``; returns a summary."""
    import pyarrow as pa  # only here, so generating in memory needs numpy alone
    p = data.preset
    uids = user_ids(p.users)
    rids = restaurant_ids(p.restaurants)
    uid_dict = pa.array(uids, pa.string())
    rid_dict = pa.array(rids, pa.string())
    start = end_date - timedelta(days=days - 1)
    base = np.datetime64(datetime(start.year, start.month, start.day), "s")
    visits_dir = out / "visits"
    order = np.argsort(data.visit_day * 86_400 + data.visit_second, kind="stable")
    day_sorted = data.visit_day[order]
    bounds = np.searchsorted(day_sorted, np.arange(days + 1))
    files = 0
    for d in range(days):
        idx = order[bounds[d] : bounds[d + 1]]
        day = start + timedelta(days=d)
        folder = visits_dir / f"date={day.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        stamps = base + (data.visit_day[idx] * 86_400 + data.visit_second[idx]).astype("timedelta64[s]")
        if fmt == "parquet":
            users = pa.DictionaryArray.from_arrays(pa.array(data.visit_user[idx], pa.int32()), uid_dict)
            rests = pa.DictionaryArray.from_arrays(pa.array(data.visit_restaurant[idx], pa.int32()), rid_dict)
        else:
            users = pa.array(uids[data.visit_user[idx]], pa.string())
            rests = pa.array(rids[data.visit_restaurant[idx]], pa.string())
        table = pa.table(
            {
                "user_id": users,
                "restaurant_id": rests,
                "visited_at": pa.array(stamps.astype("datetime64[ms]"), pa.timestamp("ms", tz="UTC")),
            }
        )
        _write_atomically(table, folder / f"part-0.{fmt}", fmt)
        files += 1

    truth = out / "truth"
    truth.mkdir(parents=True, exist_ok=True)
    _write_atomically(
        pa.table(
            {
                "user_id": pa.array(uids, pa.string()),
                "group": pa.array(data.user_group, pa.int32()),
                "visits": pa.array(data.visits_per_user, pa.int32()),
                "noise_visits": pa.array(data.noise_per_user, pa.int32()),
            }
        ),
        truth / "user_groups.parquet",
        "parquet",
    )
    g, rank = np.meshgrid(np.arange(p.groups), np.arange(p.set_size), indexing="ij")
    _write_atomically(
        pa.table(
            {
                "group": pa.array(g.ravel(), pa.int32()),
                "rank": pa.array(rank.ravel() + 1, pa.int32()),
                "restaurant_id": pa.array(rids[data.group_sets.ravel()], pa.string()),
                "weight": pa.array(data.group_weights.ravel()),
            }
        ),
        truth / "group_restaurants.parquet",
        "parquet",
    )
    summary: dict[str, object] = {
        "preset": asdict(p),
        "seed": data.seed,
        "overlap": OVERLAP,
        "noise_share": list(NOISE_SHARE),
        "zipf_s": ZIPF_S,
        "visits_per_user": list(VISITS_PER_USER),
        "start_date": start.isoformat(),
        "end_date": end_date.isoformat(),
        "format": fmt,
        "files": files,
        "visits": int(len(data.visit_user)),
    }
    tmp = truth / ".generator.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2))
    os.replace(tmp, truth / "generator.json")
    return summary

