/**
 * Sandbox names and ids. Names are lowercase ASCII letters, digits and '-' and are unique per owner;
 * nothing is normalised silently, so "Lab", "lab" and a look-alike "lаb" (Cyrillic а) can never
 * become one thing: the first and the last are refused with a message naming the field. Homes,
 * pods and volumes are keyed by the sandbox's random id, never by a string built from the owner and
 * the name, so user "a-b" and user "a" with sandbox "b" cannot share anything (JupyterHub
 * CVE-2020-15110).
 */
import { randomBytes } from "node:crypto";
import { SandboxInputError } from "./errors.js";

const NAME = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$/;
const ID = /^s[a-z2-7]{16}$/;

/** Returns the name or throws SandboxInputError (field `name`) saying what is accepted. */
export function checkSandboxName(name: unknown): string {
  if (typeof name !== "string" || name.length === 0) throw new SandboxInputError("name", "name is required: 1–32 lowercase letters, digits or '-', starting with a letter");
  if (!NAME.test(name)) {
    let why = "";
    if (name.toLowerCase() !== name && NAME.test(name.toLowerCase())) why = ` (upper case is not allowed; did you mean ${JSON.stringify(name.toLowerCase())}?)`;
    else if (/[^\x20-\x7e]/.test(name)) why = " (only ASCII letters are allowed, so look-alike letters from other scripts cannot name a second sandbox)";
    else if (name.length > 32) why = ` (it has ${name.length} characters)`;
    throw new SandboxInputError("name", `sandbox name ${JSON.stringify(name)} is not valid: use 1–32 lowercase letters, digits or '-', starting with a letter and not ending with '-'${why}`);
  }
  return name;
}

/** A new random sandbox id: 's' and 16 base32 characters (80 bits), a DNS label on its own. */
export function newSandboxId(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  const bytes = randomBytes(16);
  let id = "s";
  for (let i = 0; i < 16; i++) id += alphabet[(bytes[i] ?? 0) & 31];
  return id;
}

/** True for strings shaped like a sandbox id (checked before an id from a Host header is looked up). */
export function isSandboxId(value: string): boolean {
  return ID.test(value);
}
