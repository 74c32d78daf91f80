import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { renderShellCommand, renderTemplate, TemplateError, type TemplateContext } from "./templating.js";

function contextWith(params: Record<string, unknown>): TemplateContext {
  return { values: { ds: "2026-03-04", run_id: "p-1" }, params, outputs: {} };
}

/** Renders `command` and runs it with /bin/sh -c, as the executors do; returns its stdout. */
function runShell(command: string, params: Record<string, unknown>): string {
  const rendered = renderShellCommand(command, contextWith(params));
  return execFileSync("/bin/sh", ["-c", rendered.command], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...rendered.env }, encoding: "utf8" });
}

const HOSTILE = [
  `x"; touch pwned; echo "`,
  "it's",
  `say "hi"`,
  "back\\slash \\n \\\\",
  "$(echo ran)",
  "`echo ran`",
  "two\nlines\n",
  "*",
  "${HOME} $HOME",
  "'; echo ran; '",
  "  spaced   out  ",
  "",
];

describe("shell command rendering", () => {
  it("writes whole numbers into $(( … )) as they are, nested parentheses included, and the quoting after it goes on", () => {
    expect(runShell(`echo $(( {{ params.a }} + ({{ params.b }} * 2) )) "{{ params.c }}"`, { a: 3, b: "-4", c: "x y" })).toBe("-5 x y\n");
    expect(runShell(`echo "$(( {{ params.a }} + 1 ))" '{{ params.c }}'`, { a: "41", c: "q" })).toBe("42 q\n");
  });

  it("refuses a value inside $(( … )) that is not a whole number, naming the template", () => {
    for (const value of ["a[$(touch pwned)]", "1; echo ran", "1.5", "x", ""]) {
      expect(() => renderShellCommand("echo $(( {{ params.a }} + 1 ))", contextWith({ a: value }))).toThrow(/\{\{ params\.a \}\} stands inside \$\(\( … \)\), where only a whole number is allowed/);
    }
  });

  it("replaces each template by a quoted reference to an environment variable", () => {
    const rendered = renderShellCommand(`echo {{ params.a }} "in {{ params.a }}" 'in {{ ds }}'`, contextWith({ a: "v" }));
    expect(rendered.command).toBe(`echo "\${CAPSTAN_TEMPLATE_0}" "in \${CAPSTAN_TEMPLATE_1}" 'in '"\${CAPSTAN_TEMPLATE_2}"''`);
    expect(rendered.env).toEqual({ CAPSTAN_TEMPLATE_0: "v", CAPSTAN_TEMPLATE_1: "v", CAPSTAN_TEMPLATE_2: "2026-03-04" });
  });

  for (const value of HOSTILE) {
    it(`passes ${JSON.stringify(value)} through verbatim outside quotes, in double quotes and in single quotes`, () => {
      expect(runShell(`printf '%s|' {{ params.v }}`, { v: value })).toBe(`${value}|`);
      expect(runShell(`printf '%s|' "<{{ params.v }}>"`, { v: value })).toBe(`<${value}>|`);
      expect(runShell(`printf '%s|' '<{{ params.v }}>'`, { v: value })).toBe(`<${value}>|`);
    });
  }

  it("keeps the quoting of the surrounding command: escaped quotes, $(…), backticks, comments", () => {
    const v = `a"b'c$(echo ran)`;
    expect(runShell(`printf '%s|' "\\"{{ params.v }}\\""`, { v })).toBe(`"${v}"|`);
    expect(runShell(`printf '%s|' "$(printf '%s' "[{{ params.v }}]")"`, { v })).toBe(`[${v}]|`);
    expect(runShell("printf '%s|' `printf '%s' {{ params.v }}`", { v: "one" })).toBe("one|");
    expect(runShell(`printf '%s|' {{ params.v }} # it's {{ params.v }}\nprintf '%s|' '{{ params.v }}'`, { v })).toBe(`${v}|${v}|`);
    expect(runShell(`printf '%s|' {{ params.v }}{{ params.v }}`, { v: "*" })).toBe("**|");
  });

  it("keeps {{ ds }} style commands working: paths, globs around the value, numbers and JSON", () => {
    expect(runShell(`echo {{ ds }} {{ params.n }} {{ params.o }}`, { n: 1.5, o: { k: [1, "two"] } })).toBe(`2026-03-04 1.5 {"k":[1,"two"]}\n`);
    expect(runShell(`d=/tmp/x-{{ ds }}; echo "$d"`, {})).toBe("/tmp/x-2026-03-04\n");
  });

  it("renders a field of an object param ({{ params.kafka.messages_file }}), and refuses a field it does not have", () => {
    const params = { kafka: { topic: "visits", messages_file: "/home/a/b.jsonl", nested: { n: 3 } } };
    expect(runShell("echo {{ params.kafka.messages_file }} {{ params.kafka.nested.n }}", params)).toBe("/home/a/b.jsonl 3\n");
    expect(() => renderTemplate("{{ params.kafka.nope }}", contextWith(params))).toThrow(/\{\{ params\.kafka\.nope \}\}: param kafka has no field "nope"/);
    expect(() => renderTemplate("{{ params.kafka.constructor }}", contextWith(params))).toThrow(/param kafka has no field "constructor"/);
  });

  it("refuses a value with a NUL byte, naming the template", () => {
    expect(() => renderShellCommand("echo {{ params.v }}", contextWith({ v: "a\0b" }))).toThrow(TemplateError);
    expect(() => renderTemplate("--v={{ params.v }}", contextWith({ v: "a\0b" }))).toThrow(/\{\{ params\.v \}\}: the value contains a NUL byte/);
  });
});
