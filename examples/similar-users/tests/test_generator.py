"""The generator plants the structure the README promises: taste groups whose restaurant sets
overlap by about 20%, at least 30% noise per user drawn from a Zipf popularity law, 5 to 200
visits per user with a heavy tail, and files that read back as the logs they describe."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from similar_users.generator import PRESETS, ZIPF_S, generate, write
from similar_users.visits import COLUMNS, list_partitions, read_visits

SEEDS = (1, 2, 3)


@pytest.fixture(scope="module", params=SEEDS)
def small(request: pytest.FixtureRequest):
    return generate(PRESETS["small"], request.param, 28)


def test_sizes_match_the_small_preset(small) -> None:
    p = PRESETS["small"]
    assert len(small.user_group) == p.users == 5000
    assert small.visit_restaurant.max() < p.restaurants == 2000
    assert abs(len(small.visit_user) - p.visits) / p.visits < 0.02
    assert np.bincount(small.user_group).min() == p.users // p.groups


def test_each_group_set_overlaps_the_others_by_about_20_percent(small) -> None:
    sets = [set(row) for row in small.group_sets]
    for g, own in enumerate(sets):
        others = set().union(*(s for h, s in enumerate(sets) if h != g))
        share = len(own & others) / len(own)
        assert 0.15 <= share <= 0.25, (g, share)


def test_every_user_has_at_least_30_percent_noise_visits(small) -> None:
    noise = np.bincount(small.visit_user, weights=small.visit_is_noise, minlength=len(small.user_group))
    total = np.bincount(small.visit_user, minlength=len(small.user_group))
    assert (noise / total).min() >= 0.3
    # Signal visits stay inside the user's group set; noise falls outside it most of the time.
    in_set = np.zeros(len(small.visit_user), bool)
    for g, row in enumerate(small.group_sets):
        mine = small.user_group[small.visit_user] == g
        in_set[mine] = np.isin(small.visit_restaurant[mine], row)
    assert in_set[~small.visit_is_noise].all()
    assert (~in_set).mean() >= 0.3


def test_noise_follows_zipf_with_s_near_1_1(small) -> None:
    counts = np.sort(np.bincount(small.visit_restaurant[small.visit_is_noise], minlength=PRESETS["small"].restaurants))[::-1]
    ranks = np.arange(1, 101)
    slope = np.polyfit(np.log(ranks), np.log(counts[:100]), 1)[0]
    assert abs(-slope - ZIPF_S) < 0.15, slope


def test_visits_per_user_are_between_5_and_200_and_heavy_tailed(small) -> None:
    visits = np.bincount(small.visit_user)
    assert visits.min() >= 5 and visits.max() <= 200
    assert np.median(visits) < visits.mean()  # skewed to the right
    assert (visits >= 100).mean() > 0.05 and (visits <= 10).mean() > 0.1


def test_the_same_seed_gives_the_same_data() -> None:
    a = generate(PRESETS["tiny"], 11, 7)
    b = generate(PRESETS["tiny"], 11, 7)
    c = generate(PRESETS["tiny"], 12, 7)
    assert np.array_equal(a.visit_restaurant, b.visit_restaurant) and np.array_equal(a.user_group, b.user_group)
    assert not np.array_equal(a.visit_restaurant, c.visit_restaurant)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_written_partitions_read_back_as_the_generated_visits(tmp_path: Path, fmt: str) -> None:
    data = generate(PRESETS["tiny"], 5, 7)
    summary = write(data, tmp_path, date(2026, 1, 28), 7, fmt)
    partitions = list_partitions(tmp_path / "visits")
    assert [p.day.isoformat() for p in partitions] == [f"2026-01-{d}" for d in range(22, 29)]
    assert summary["start_date"] == "2026-01-22" and summary["files"] == 7
    visits = read_visits([f for p in partitions for f in p.files]).to_pandas()
    assert list(visits.columns) == list(COLUMNS)
    assert len(visits) == len(data.visit_user)
    for partition in partitions:  # each visit lies in its own day's partition
        (file,) = partition.files
        days = read_visits([file]).to_pandas()["visited_at"].dt.strftime("%Y-%m-%d")
        assert (days == partition.day.isoformat()).all()
    per_user = visits.groupby("user_id").size()
    truth = pd.read_parquet(tmp_path / "truth" / "user_groups.parquet").set_index("user_id")
    assert (per_user.reindex(truth.index).to_numpy() == truth["visits"].to_numpy()).all()
    assert (truth["noise_visits"] / truth["visits"]).min() >= 0.3
    days = pd.to_datetime(visits["visited_at"]).dt.strftime("%Y-%m-%d")
    assert days.min() == "2026-01-22" and days.max() == "2026-01-28"
