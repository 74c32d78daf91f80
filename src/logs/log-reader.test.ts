import { appendFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { getEventListeners } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SecretMask } from "../secrets/index.js";
import { followLog, readLogChunk } from "./log-reader.js";

/**
 * The secret uses only characters that nothing else in the log uses (upper case, digits, symbols,
 * a two-byte letter; the rest of the log is lower case, spaces, '=', ':' and line ends), so any of
 * its characters in an answer is a piece of it shown: the check is "no character of the secret but
 * the line break", stronger than "no substring of length 2".
 */
const SECRET = 'K9"Q\\<Z@\nW#X7%VΩ';
const OTHER_TEAM = "BY-55+JJ";
const ALPHABET = new Set([...SECRET, ...OTHER_TEAM].filter((c) => c !== "\n"));
const pythonJson = JSON.stringify(SECRET).slice(1, -1).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
const LOG = [
  "starting up\n",
  `token=${SECRET}\n`,
  `as json: ${JSON.stringify(SECRET).slice(1, -1)} and as python json: ${pythonJson}\n`,
  `twice: ${SECRET}${SECRET} and the other team: ${OTHER_TEAM}\n`,
  `at the end without a line end: ${SECRET}`,
].join("");
const mask = SecretMask.of([SECRET, OTHER_TEAM, "ok"]);

function shown(text: string): string[] {
  return [...text].filter((c) => ALPHABET.has(c));
}

function logFile(content: string | Buffer = LOG): string {
  const path = join(mkdtempSync(join(tmpdir(), "capstan-log-")), "log");
  writeFileSync(path, content);
  return path;
}

describe("readLogChunk with a mask", () => {
  it("shows no character of a secret from any offset, with any range length, or in any tail", async () => {
    const path = logFile();
    const size = Buffer.byteLength(LOG);
    // Range ends at every distance into a secret (it is 17 bytes), and around the longest masked form.
    const lengths = [...Array.from({ length: 24 }, (_, i) => i + 1), mask.longestBytes - 1, mask.longestBytes, mask.longestBytes + 1, 1024 * 1024];
    for (let offset = 0; offset <= size; offset++) {
      for (const maxBytes of lengths) {
        const chunk = await readLogChunk(path, offset, { mask, maxBytes });
        expect(shown(chunk.text), `offset ${offset}, ${maxBytes} bytes: ${JSON.stringify(chunk.text)}`).toEqual([]);
        expect(chunk.size).toBe(size);
        expect(chunk.next).toBeGreaterThan(offset === size ? offset - 1 : offset);
      }
      const tail = await readLogChunk(path, -offset, { mask });
      expect(shown(tail.text), `offset -${offset}: ${JSON.stringify(tail.text)}`).toEqual([]);
      expect(tail.next).toBe(size);
    }
    // Without a mask the same reads show it: the check above can fail.
    expect(shown((await readLogChunk(path, 12)).text).length).toBeGreaterThan(0);
  });

  it("pages through a log by `next` into exactly the masked text, one *** per masked piece", async () => {
    const path = logFile();
    const whole = mask.maskText(LOG);
    expect(whole).toBe("starting up\ntoken=***\nas json: *** and as python json: ***\ntwice: *** and the other team: ***\nat the end without a line end: ***");
    for (let maxBytes = 1; maxBytes <= mask.longestBytes + 2; maxBytes++) {
      let text = "";
      for (let offset = 0, size = 1; offset < size; ) {
        const chunk = await readLogChunk(path, offset, { mask, maxBytes });
        text += chunk.text;
        offset = chunk.next;
        size = chunk.size;
      }
      expect(text, `${maxBytes} bytes a page`).toBe(whole);
    }
  });

  it("while the attempt runs, holds back what may be the start of a secret, from any offset of any length the file had", async () => {
    const bytes = Buffer.from(LOG);
    const path = logFile();
    for (let length = 0; length <= bytes.length; length++) {
      writeFileSync(path, bytes.subarray(0, length));
      for (let offset = Math.max(0, length - 3 * mask.longestBytes); offset <= length; offset++) {
        const chunk = await readLogChunk(path, offset, { mask, live: true });
        expect(shown(chunk.text), `${length} bytes written, offset ${offset}: ${JSON.stringify(chunk.text)}`).toEqual([]);
        expect(chunk.next).toBeGreaterThanOrEqual(offset);
      }
      const tail = await readLogChunk(path, -mask.longestBytes, { mask, live: true });
      expect(shown(tail.text), `${length} bytes written, tail`).toEqual([]);
    }
  });

  it("streams a log written in pieces of any size into exactly the masked text", async () => {
    const bytes = Buffer.from(LOG);
    const path = logFile("");
    for (const piece of [1, 2, 3, 5, 7, 11, 64]) {
      writeFileSync(path, "");
      let text = "";
      let offset = 0;
      for (let written = 0; written < bytes.length; ) {
        written = Math.min(bytes.length, written + piece);
        writeFileSync(path, bytes.subarray(0, written));
        const chunk = await readLogChunk(path, offset, { mask, live: true });
        expect(shown(chunk.text), `pieces of ${piece}, ${written} written`).toEqual([]);
        text += chunk.text;
        offset = chunk.next;
      }
      // The attempt ended: the rest comes.
      const last = await readLogChunk(path, offset, { mask });
      text += last.text;
      expect(last.next).toBe(bytes.length);
      // A secret sent as *** before an adjacent one was written shows as a second *** next to it.
      expect(text.replace(/(\*\*\*)+/g, "***"), `pieces of ${piece}`).toBe(mask.maskText(LOG));
    }
  });

  it("reads as before without a mask, and does not split a UTF-8 character", async () => {
    const path = logFile("aΩb\n");
    expect(await readLogChunk(path, 0)).toEqual({ text: "aΩb\n", next: 5, size: 5 });
    expect(await readLogChunk(path, 0, { maxBytes: 2 })).toEqual({ text: "a", next: 1, size: 5 });
    expect(await readLogChunk(path, -2)).toEqual({ text: "b\n", next: 5, size: 5 });
    expect(await readLogChunk(join(tmpdir(), "capstan-no-such-log"), 3)).toEqual({ text: "", next: 3, size: 0 });
  });
});

describe("followLog with a mask", () => {
  it("sends what is written, a secret only once it is whole (as ***), until the attempt ends, with one abort listener", async () => {
    const bytes = Buffer.from(LOG);
    const path = logFile("");
    const controller = new AbortController();
    const sent: string[] = [];
    let written = 0;
    let done = false;
    let listeners = 0;
    // Each end-of-attempt check writes the next few bytes (the attempt "runs" between checks); checkMs 0 wakes at once.
    const isDone = () => {
      listeners = Math.max(listeners, getEventListeners(controller.signal, "abort").length);
      if (done) return Promise.resolve(true);
      const from = written;
      written = Math.min(bytes.length, written + 3);
      appendFileSync(path, bytes.subarray(from, written));
      done = written === bytes.length;
      return Promise.resolve(false);
    };
    const next = await followLog(path, { isDone, mask: () => Promise.resolve(mask), onData: (text) => sent.push(text), signal: controller.signal, checkMs: 0 });
    expect(next).toBe(bytes.length);
    for (const text of sent) expect(shown(text), JSON.stringify(text)).toEqual([]);
    expect(sent.join("").replace(/(\*\*\*)+/g, "***")).toBe(mask.maskText(LOG));
    expect(listeners).toBe(1);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });
});
