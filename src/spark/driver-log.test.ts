import { describe, expect, it } from "vitest";
import { driverFailureLine, sparkUiUrl } from "./driver-log.js";

describe("a Spark driver's log", () => {
  it("says why a Python driver failed: the exception line ending its last traceback, without the package", () => {
    const log = [
      "26/12/01 13:02:25 INFO Utils: Successfully started service 'SparkUI' on port 42669.",
      '{"ts": "2026-12-01", "level": "ERROR", "exception": {"class": "Py4JJavaError"}}',
      "Traceback (most recent call last):",
      '  File "/tmp/ok.py", line 6, in <module>',
      '    spark.sql("select * from no_such_table").show()',
      "pyspark.errors.exceptions.captured.AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table or view `no_such_table` cannot be found.",
      "If you did not qualify the name with a schema, verify the current_schema() output.",
      "",
      "26/12/01 13:02:45 INFO SparkContext: Invoking stop() from shutdown hook",
    ].join("\n");
    expect(driverFailureLine(log)).toBe("AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table or view `no_such_table` cannot be found.");
    expect(driverFailureLine("Traceback (most recent call last):\n  File \"a.py\", line 1\nValueError: bad day\n")).toBe("ValueError: bad day");
  });

  it("says why a JVM driver failed", () => {
    expect(driverFailureLine('Exception in thread "main" java.lang.IllegalArgumentException: no input\n\tat com.x.Main.main(Main.java:3)\n')).toBe("IllegalArgumentException: no input");
    expect(driverFailureLine("INFO all good\n")).toBeUndefined();
  });

  it("cuts a long exception line between words, so a secret it holds is never kept in part (masking matches whole values)", () => {
    const secret = "s3cr3t-".repeat(20);
    const line = driverFailureLine(`ValueError: ${"x ".repeat(220)}password=${secret} and more\n`) ?? "";
    expect(line.length).toBeLessThanOrEqual(502);
    expect(line.endsWith(" …")).toBe(true);
    expect(line).not.toContain("s3cr3t");
    expect(line).not.toContain("password=");
  });

  it("gives the UI's URL from Spark 4's lines and from the older one", () => {
    expect(sparkUiUrl("INFO JettyUtils: Start Jetty 127.0.0.1:0 for SparkUI\nINFO Utils: Successfully started service 'SparkUI' on port 42669.\n")).toBe("http://127.0.0.1:42669");
    expect(sparkUiUrl("INFO SparkUI: Bound SparkUI to 0.0.0.0, and started at http://localhost:4040\n")).toBe("http://localhost:4040");
    expect(sparkUiUrl("INFO nothing yet\n")).toBeUndefined();
  });

  it("takes only a plain http://host:port from the log the task writes", () => {
    expect(sparkUiUrl("Bound SparkUI to x, and started at http://user@evil.example/login\n")).toBeUndefined();
    expect(sparkUiUrl("Bound SparkUI to x, and started at javascript:alert(1)\n")).toBeUndefined();
    expect(sparkUiUrl("Start Jetty a/b@c:0 for SparkUI\nSuccessfully started service 'SparkUI' on port 4040.\n")).toBe("http://localhost:4040");
    expect(sparkUiUrl("Successfully started service 'SparkUI' on port 99999.\n")).toBeUndefined();
    // a local job's UI is on loopback: a line naming another host is not a link on the task page
    expect(sparkUiUrl("Bound SparkUI to x, and started at http://phish.example:443\n")).toBeUndefined();
    expect(sparkUiUrl("Start Jetty phish.example:0 for SparkUI\nSuccessfully started service 'SparkUI' on port 4040.\n")).toBeUndefined();
  });
});
