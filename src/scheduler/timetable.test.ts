import { describe, expect, it } from "vitest";
import { parseSchedule } from "../pipelines/schedule-spec.js";
import { intervalsBetween, nextDataInterval } from "./timetable.js";

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe("nextDataInterval", () => {
  const daily3 = parseSchedule("0 3 * * *", "Asia/Seoul");

  it("starts at the first tick at or after start_date and runs when the interval has ended (catchup)", () => {
    const first = nextDataInterval(daily3, "Asia/Seoul", { lastEnd: null, startDate: t("2025-12-31T15:00:00Z"), endDate: null, catchup: true, now: t("2026-01-05T00:00:00Z") });
    // 03:00 in Seoul is 18:00 UTC the day before.
    expect(first && [iso(first.start), iso(first.end)]).toEqual(["2025-12-31T18:00:00.000Z", "2026-01-01T18:00:00.000Z"]);
    const second = nextDataInterval(daily3, "Asia/Seoul", { lastEnd: first?.end ?? 0, startDate: t("2025-12-31T15:00:00Z"), endDate: null, catchup: true, now: t("2026-01-05T00:00:00Z") });
    expect(second && iso(second.start)).toBe("2026-01-01T18:00:00.000Z");
  });

  it("skips to the latest complete interval without catchup", () => {
    const next = nextDataInterval(daily3, "Asia/Seoul", { lastEnd: null, startDate: t("2025-12-31T15:00:00Z"), endDate: null, catchup: false, now: t("2026-01-05T00:00:00Z") });
    expect(next && [iso(next.start), iso(next.end)]).toEqual(["2026-01-03T18:00:00.000Z", "2026-01-04T18:00:00.000Z"]);
  });

  it("keeps local wall-clock time across a DST change", () => {
    const ny = parseSchedule("0 3 * * *", "America/New_York");
    const next = nextDataInterval(ny, "America/New_York", { lastEnd: t("2026-03-07T08:00:00Z"), startDate: t("2026-01-01T05:00:00Z"), endDate: null, catchup: true, now: t("2026-03-20T00:00:00Z") });
    // 03:00 EST is 08:00Z; after the switch on 8 March 03:00 EDT is 07:00Z.
    expect(next && [iso(next.start), iso(next.end)]).toEqual(["2026-03-07T08:00:00.000Z", "2026-03-08T07:00:00.000Z"]);
  });

  it("anchors fixed intervals at start_date", () => {
    const every = parseSchedule("every 15m", "UTC");
    const next = nextDataInterval(every, "UTC", { lastEnd: null, startDate: t("2026-01-01T00:05:00Z"), endDate: null, catchup: false, now: t("2026-01-01T01:00:00Z") });
    expect(next && [iso(next.start), iso(next.end)]).toEqual(["2026-01-01T00:35:00.000Z", "2026-01-01T00:50:00.000Z"]);
  });

  it("stops after end_date, and @once runs once", () => {
    const daily = parseSchedule("@daily", "UTC");
    expect(nextDataInterval(daily, "UTC", { lastEnd: t("2026-01-03T00:00:00Z"), startDate: t("2026-01-01T00:00:00Z"), endDate: t("2026-01-02T00:00:00Z"), catchup: true, now: t("2026-02-01T00:00:00Z") })).toBeNull();
    const once = parseSchedule("@once", "UTC");
    expect(nextDataInterval(once, "UTC", { lastEnd: null, startDate: 5, endDate: null, catchup: true, now: 10 })).toEqual({ start: 5, end: 5 });
    expect(nextDataInterval(once, "UTC", { lastEnd: 5, startDate: 5, endDate: null, catchup: true, now: 10 })).toBeNull();
  });
});

describe("intervalsBetween", () => {
  it("lists the intervals whose logical date falls in the range, inclusive", () => {
    const daily = parseSchedule("@daily", "UTC");
    const list = intervalsBetween(daily, "UTC", t("2026-01-01T00:00:00Z"), t("2026-01-03T00:00:00Z"), t("2026-01-05T00:00:00Z"));
    expect(list.map((i) => iso(i.start).slice(0, 10))).toEqual(["2026-01-03", "2026-01-04", "2026-01-05"]);
  });
});
