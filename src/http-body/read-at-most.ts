/**
 * Reading at most so many bytes of an HTTP answer's body from a server Capstan does not control
 * (a connection's endpoint, a ResourceManager): the rest is left unread, so an answer of any size
 * costs no more memory than the limit.
 */

/** Up to `limit` bytes of the body as UTF-8; the stream is cancelled after. */
export async function readAtMost(response: Response, limit: number): Promise<string> {
  const reader: ReadableStreamDefaultReader<Uint8Array> | undefined = response.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, limit).toString("utf8");
}
