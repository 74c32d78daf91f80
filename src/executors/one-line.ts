/** Text from a task or the cluster (a failure message) as one line for a reason, cut at `max` characters. */
export function oneLine(text: string, max = 500): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
