// Prints the slowest test files of a vitest JSON report (vitest run --reporter=json --outputFile.json=FILE),
// so CI logs show where the suite's time goes: `node scripts/slowest-test-files.mjs REPORT [COUNT]`.
import { readFileSync } from "node:fs";
import { relative } from "node:path";

const [report, countText = "15"] = process.argv.slice(2);
if (!report) {
  console.error("usage: node scripts/slowest-test-files.mjs REPORT.json [COUNT]");
  process.exit(2);
}
const { testResults = [] } = JSON.parse(readFileSync(report, "utf8"));
const files = testResults
  .map((file) => ({ name: relative(process.cwd(), file.name), seconds: (file.endTime - file.startTime) / 1000, status: file.status }))
  .sort((a, b) => b.seconds - a.seconds)
  .slice(0, Number(countText));
console.log(`\nslowest ${files.length} test files (seconds):`);
for (const file of files) console.log(`${file.seconds.toFixed(1).padStart(8)}  ${file.name}${file.status === "passed" ? "" : `  (${file.status})`}`);
