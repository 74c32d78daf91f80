/**
 * Checks that a push webhook comes from the repository's host: GitHub and Gitea sign the body
 * with HMAC-SHA256 of the shared secret (`X-Hub-Signature-256: sha256=HEX`), GitLab sends the
 * secret itself (`X-Gitlab-Token`). Both compared in constant time.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  return left.length === right.length && timingSafeEqual(left, right);
}

/** True when the headers prove knowledge of `secret` for this exact `body`. */
export function webhookAuthentic(secret: string, body: Buffer, headers: { signature?: string | undefined; token?: string | undefined }): boolean {
  if (secret === "") return false;
  if (headers.signature !== undefined) {
    const expected = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
    return sameText(headers.signature.trim().toLowerCase(), expected);
  }
  if (headers.token !== undefined) return sameText(headers.token, secret);
  return false;
}
