/** Reads Java .properties text (config.properties): `key=value`, `key: value` or `key value`, `#`/`!` comments, `\` continuations. */

/** Parses properties text into a map (later keys win, as in java.util.Properties). */
export function parseJavaProperties(text: string): Map<string, string> {
  const result = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.replace(/^\s+/, "");
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i]!.replace(/^\s+/, "");
    }
    const match = /^((?:\\.|[^=:\s\\])*)\s*[=:\s]?\s*(.*)$/.exec(line);
    if (!match) continue;
    result.set(unescape(match[1]!), unescape(match[2]!));
  }
  return result;
}

function unescape(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, code: string) => {
    if (code.length === 5) return String.fromCharCode(parseInt(code.slice(1), 16));
    return code === "t" ? "\t" : code === "n" ? "\n" : code === "r" ? "\r" : code === "f" ? "\f" : code;
  });
}
