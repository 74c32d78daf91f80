/**
 * Certificates and keys of the test control plane, made with the openssl command: a CA, the API
 * server's serving certificate for 127.0.0.1, and the service-account signing key pair.
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { KubeTestenvError } from "./errors.js";

const run = promisify(execFile);

/** Paths of the files {@link createPki} writes. */
export interface KubeTestenvPki {
  caCert: string;
  caKey: string;
  /** PEM of the CA, for kubeconfig certificate-authority-data and HTTPS clients. */
  caPem: string;
  serverCert: string;
  serverKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run("openssl", args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new KubeTestenvError("setup", `openssl ${args[0] ?? ""} failed: ${stderr.trim() || String(error)}`, {
      cause: error,
    });
  }
}

/** Writes the CA, serving certificate and service-account keys under `dir` (EC P-256 keys). */
export async function createPki(dir: string): Promise<KubeTestenvPki> {
  await mkdir(dir, { recursive: true });
  const p = (name: string): string => join(dir, name);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(["req", "-x509", ...ec, "-keyout", p("ca.key"), "-out", p("ca.crt"), "-days", "3650",
    "-subj", "/CN=capstan-kube-testenv-ca"]);
  await openssl(["req", ...ec, "-keyout", p("apiserver.key"), "-out", p("apiserver.csr"),
    "-subj", "/CN=kube-apiserver"]);
  await writeFile(
    p("apiserver.ext"),
    [
      "basicConstraints=CA:FALSE",
      "keyUsage=digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc",
      "",
    ].join("\n"),
  );
  await openssl(["x509", "-req", "-in", p("apiserver.csr"), "-CA", p("ca.crt"), "-CAkey", p("ca.key"),
    "-CAcreateserial", "-out", p("apiserver.crt"), "-days", "3650", "-extfile", p("apiserver.ext")]);
  await openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", p("sa.key")]);
  await openssl(["ec", "-in", p("sa.key"), "-pubout", "-out", p("sa.pub")]);
  return {
    caCert: p("ca.crt"),
    caKey: p("ca.key"),
    caPem: await readFile(p("ca.crt"), "utf8"),
    serverCert: p("apiserver.crt"),
    serverKey: p("apiserver.key"),
    serviceAccountKey: p("sa.key"),
    serviceAccountPub: p("sa.pub"),
  };
}
