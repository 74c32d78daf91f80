/**
 * The one order of folder listings on every backend: S3's key order, the UTF-8 bytes of a name,
 * with a folder compared as "name/". JavaScript compares UTF-16 code units, which differs from
 * UTF-8 byte order only between surrogate pairs and U+E000..U+FFFF; compareUtf8 corrects that.
 */

/** Negative, zero or positive as `a` sorts before, with or after `b` in UTF-8 byte order. */
export function compareUtf8(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return x >= 0xd800 && y >= 0xd800 ? rank(x) - rank(y) : x - y;
  }
  return a.length - b.length;
}

/** The sort key of an entry: its name, and "/" after a folder's. */
export function sortKey(name: string, folder: boolean): string {
  return folder ? `${name}/` : name;
}

function rank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  return unit >= 0xe000 ? unit - 0x800 : unit;
}
