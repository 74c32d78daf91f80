/**
 * Checks container image references against the grammar of the distribution reference
 * (`[registry[:port]/]path[:tag][@digest]`), so a typo is a file error instead of a pod that never
 * pulls.
 */

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
const PATH = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const REFERENCE = new RegExp(`^(?:(${DOMAIN})/)?(${PATH})(?::(${TAG}))?(?:@(${DIGEST}))?$`);

/** What an image reference looks like, for messages. */
export const IMAGE_HINT = 'an image reference such as "python:3.12-slim", "ghcr.io/team/train:1.4" or "registry:5000/app@sha256:…" (lower-case path, no spaces)';

/** Why `image` is not a valid reference, or undefined when it is. */
export function imageReferenceProblem(image: string): string | undefined {
  if (image.trim() === "") return "the image is empty";
  if (image !== image.trim()) return "the image has spaces around it";
  if (image.length > 255 + 128 + 80) return "the image reference is too long";
  const match = REFERENCE.exec(image);
  if (!match) {
    if (/[A-Z]/.test(image.split(/[:@]/)[0]?.split("/").slice(-1)[0] ?? "")) return `${JSON.stringify(image)} is not a valid image reference: repository names are lower-case`;
    return `${JSON.stringify(image)} is not ${IMAGE_HINT}`;
  }
  const [, domain, path] = match;
  // A first component without '.' or ':' (and not localhost) is part of the path, not a registry.
  if (domain !== undefined && !/[.:[]/.test(domain) && domain !== "localhost" && !new RegExp(`^${PATH_COMPONENT}$`).test(domain)) {
    return `${JSON.stringify(image)} is not a valid image reference: repository names are lower-case`;
  }
  if ((domain?.length ?? 0) + (path?.length ?? 0) > 255) return "the repository name is longer than 255 characters";
  return undefined;
}
