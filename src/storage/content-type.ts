/**
 * Content types of files by extension, and which of them a browser would run as active content
 * (HTML, SVG, JavaScript, XML): those are served as attachments under a sandbox CSP
 * (filebrowser's stored XSS, CVE-2021-37794).
 */

const TYPES: Record<string, string> = {
  txt: "text/plain; charset=utf-8",
  log: "text/plain; charset=utf-8",
  md: "text/markdown; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  tsv: "text/tab-separated-values; charset=utf-8",
  json: "application/json",
  jsonl: "application/x-ndjson",
  yaml: "application/yaml",
  yml: "application/yaml",
  py: "text/x-python; charset=utf-8",
  ipynb: "application/x-ipynb+json",
  parquet: "application/vnd.apache.parquet",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  svg: "image/svg+xml",
  pdf: "application/pdf",
  zip: "application/zip",
  gz: "application/gzip",
  tar: "application/x-tar",
  html: "text/html; charset=utf-8",
  htm: "text/html; charset=utf-8",
  xhtml: "application/xhtml+xml",
  xml: "application/xml",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  mp4: "video/mp4",
  wav: "audio/wav",
  npy: "application/octet-stream",
  pt: "application/octet-stream",
  safetensors: "application/octet-stream",
};

const ACTIVE = /^(text\/html|image\/svg\+xml|application\/xhtml\+xml|application\/xml|text\/javascript|text\/xml)/;

/** The content type of a file name (application/octet-stream when unknown). */
export function contentTypeOf(name: string): string {
  const dot = name.lastIndexOf(".");
  if (dot < 0) return "application/octet-stream";
  return TYPES[name.slice(dot + 1).toLowerCase()] ?? "application/octet-stream";
}

/** True for content a browser would run (HTML, SVG, XML, JavaScript): serve it as an attachment with a sandbox CSP. */
export function isActiveContent(contentType: string): boolean {
  return ACTIVE.test(contentType);
}
