/**
 * Parsing of a pipeline's `schedule:` text: a cron expression, a preset (@hourly, @daily, …, @once)
 * or a fixed interval ("every 15m"). The data-interval arithmetic lives in the scheduler's timetable.
 */
import { CronExpressionParser } from "cron-parser";
import { parseDuration } from "../units/index.js";

export type ScheduleSpec =
  | { kind: "cron"; expression: string; text: string }
  | { kind: "interval"; everyMs: number; text: string }
  | { kind: "once"; text: string };

const PRESETS: Record<string, string> = {
  "@hourly": "0 * * * *",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@weekly": "0 0 * * 0",
  "@monthly": "0 0 1 * *",
  "@quarterly": "0 0 1 */3 *",
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
};

export const SCHEDULE_HINT =
  'a 5-field cron expression ("0 3 * * *"), a preset (@hourly, @daily, @weekly, @monthly, @quarterly, @yearly, @once), "every <duration>" ("every 15m"), or nothing for manual runs only';

/** Thrown when a schedule or a timezone does not parse. */
export class ScheduleSpecError extends Error {
  override readonly name = "ScheduleSpecError";
}

/** Checks that `timezone` is an IANA zone name the runtime knows. */
export function isValidTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/** Parses the schedule text; throws ScheduleSpecError saying what is accepted. */
export function parseSchedule(text: string, timezone: string): ScheduleSpec {
  const trimmed = text.trim();
  if (trimmed === "@once") return { kind: "once", text: trimmed };
  const every = /^every\s+(.+)$/i.exec(trimmed);
  if (every) {
    const everyMs = parseDuration(every[1] ?? "");
    if (everyMs === undefined || everyMs < 1000) {
      throw new ScheduleSpecError(`${JSON.stringify(text)}: the interval must be a duration of at least 1s, like "every 15m"`);
    }
    return { kind: "interval", everyMs, text: trimmed };
  }
  const expression = PRESETS[trimmed.toLowerCase()] ?? trimmed;
  if (expression.startsWith("@")) {
    throw new ScheduleSpecError(`unknown preset ${JSON.stringify(text)}; expected ${SCHEDULE_HINT}`);
  }
  const fields = expression.split(/\s+/);
  if (fields.length !== 5) {
    throw new ScheduleSpecError(`${JSON.stringify(text)} has ${fields.length} fields; expected ${SCHEDULE_HINT}`);
  }
  try {
    CronExpressionParser.parse(expression, { tz: timezone, strict: false });
  } catch (error) {
    throw new ScheduleSpecError(`${JSON.stringify(text)} is not a valid cron expression (${(error as Error).message}); expected ${SCHEDULE_HINT}`, { cause: error });
  }
  return { kind: "cron", expression, text: trimmed };
}
