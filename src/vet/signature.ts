/**
 * OpenSSF model signing (sigstore/model-transparency): `model.sig` is a Sigstore bundle whose DSSE
 * envelope carries an in-toto statement listing every file's digest (predicate.resources). We check
 * the DSSE signature (PAE) with a given public key, or with the bundle's certificate, matching its
 * identity (SAN) and OIDC issuer and, when given, its chain to a trusted CA; then compare each listed
 * digest with the files on disk. Not checked offline: Rekor transparency-log inclusion.
 */
import { createPublicKey, type KeyObject, verify, X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../util/errors.js";

export interface SignatureOptions {
  /** PEM public key file. */
  key?: string;
  /** Expected certificate identity (email or URI SAN). */
  identity?: string;
  /** Expected OIDC issuer recorded in the certificate. */
  issuer?: string;
  /** PEM file of trusted CA certificates for the signing certificate. */
  trustRoot?: string;
}

export interface SignatureReport {
  status: "unsigned" | "valid" | "invalid" | "mismatch";
  signature?: string;
  signer?: { method: "key" | "certificate"; identity?: string; issuer?: string; chainVerified?: boolean };
  reason?: string;
  files: { path: string; status: "valid" | "mismatch" | "missing" | "unsigned" }[];
}

export function pae(payloadType: string, payload: Buffer): Buffer {
  const t = Buffer.from(payloadType, "utf8");
  return Buffer.concat([Buffer.from(`DSSEv1 ${t.length} `), t, Buffer.from(` ${payload.length} `), payload]);
}

/** The value of a Fulcio extension (OID 1.3.6.1.4.1.57264.1.n) found in the certificate's DER. */
function fulcioExtension(der: Buffer, n: number): string | undefined {
  const oid = Buffer.from([0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, n]);
  const at = der.indexOf(oid);
  if (at < 0) return undefined;
  let p = at + oid.length;
  if (der[p] === 0x01) p += 3; // critical BOOLEAN
  if (der[p] !== 0x04) return undefined;
  let len = der[p + 1] as number;
  p += 2;
  if (len & 0x80) {
    const k = len & 0x7f;
    len = der.readUIntBE(p, k);
    p += k;
  }
  const v = der.subarray(p, p + len);
  // .8 and later wrap the value in a DER UTF8String; .1 is the raw string.
  if (n >= 8 && v[0] === 0x0c) return v.subarray(2, 2 + (v[1] as number)).toString("utf8");
  return v.toString("utf8");
}

interface Bundle {
  verificationMaterial?: { publicKey?: unknown; certificate?: { rawBytes?: string }; x509CertificateChain?: { certificates?: { rawBytes?: string }[] } };
  dsseEnvelope?: { payload?: string; payloadType?: string; signatures?: { sig?: string }[] };
}

/** A step that either gives its value or the reason the signature is invalid. */
type Step<T> = { value: T; reason?: undefined } | { value?: undefined; reason: string };
type Signer = NonNullable<SignatureReport["signer"]>;

/** bundle → signing key (given, or the certificate's after its identity checks) → DSSE signature → signed digests vs files. */
export function verifySignature(root: string, files: { path: string; sha256: string }[], opts: SignatureOptions, sigFile = "model.sig"): SignatureReport {
  const path = join(root, sigFile);
  if (!existsSync(path)) return { status: "unsigned", files: files.map((f) => ({ path: f.path, status: "unsigned" as const })) };
  if (!opts.key && !opts.identity) throw new UserError(`${sigFile} found: pass --key PUBLIC.pem or --identity EMAIL|URI to verify it`);
  const invalid = (reason: string): SignatureReport => ({
    status: "invalid",
    signature: sigFile,
    reason,
    files: files.map((f) => ({ path: f.path, status: "unsigned" as const })),
  });
  const read = readBundle(path);
  if (read.reason !== undefined) return invalid(read.reason);
  const { bundle, env } = read.value;
  const signing = opts.key ? keyFromFile(opts.key) : keyFromCertificate(bundle, opts);
  if (signing.reason !== undefined) return invalid(signing.reason);
  const { key, signer } = signing.value;
  const payload = Buffer.from(env.payload, "base64");
  const ok = verify(key.asymmetricKeyType === "ed25519" ? null : "sha256", pae(env.payloadType, payload), key, Buffer.from(env.sig, "base64"));
  if (!ok) return invalid("the DSSE signature does not verify with the given key");
  const signed = signedDigests(payload);
  if (signed.reason !== undefined) return invalid(signed.reason);
  return compareFiles(files, signed.value, sigFile, signer);
}

function readBundle(path: string): Step<{ bundle: Bundle; env: { payload: string; payloadType: string; sig: string } }> {
  let bundle: Bundle;
  try {
    bundle = JSON.parse(readFileSync(path, "utf8")) as Bundle;
  } catch (e) {
    return { reason: `not a JSON Sigstore bundle: ${(e as Error).message}` };
  }
  const env = bundle.dsseEnvelope;
  const sig = env?.signatures?.[0]?.sig;
  if (!env?.payload || !env.payloadType || !sig) return { reason: "the bundle has no DSSE envelope with a signature" };
  return { value: { bundle, env: { payload: env.payload, payloadType: env.payloadType, sig } } };
}

/** --key: a PEM public key the user gave (one that cannot be read is the user's error, not an invalid signature). */
function keyFromFile(file: string): Step<{ key: KeyObject; signer: Signer }> {
  try {
    return { value: { key: createPublicKey(readFileSync(file)), signer: { method: "key" } } };
  } catch (e) {
    throw new UserError(`--key ${file}: cannot read a PEM public key (${(e as Error).message})`);
  }
}

/** The bundle's certificate, once its identity (SAN), OIDC issuer and, when given, its chain to a trusted CA match. */
function keyFromCertificate(bundle: Bundle, opts: SignatureOptions): Step<{ key: KeyObject; signer: Signer }> {
  const raw = bundle.verificationMaterial?.certificate?.rawBytes ?? bundle.verificationMaterial?.x509CertificateChain?.certificates?.[0]?.rawBytes;
  if (!raw) return { reason: "the bundle carries no certificate, and no --key was given" };
  const der = Buffer.from(raw, "base64");
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (e) {
    return { reason: `the bundle's certificate does not parse: ${(e as Error).message}` };
  }
  const sans = (cert.subjectAltName ?? "").split(/,\s*/).map((s) => s.replace(/^(email|URI):/, ""));
  const issuer = fulcioExtension(der, 8) ?? fulcioExtension(der, 1);
  if (opts.identity && !sans.includes(opts.identity)) return { reason: `certificate identity ${sans.join(", ") || "(none)"} is not ${opts.identity}` };
  if (opts.issuer && issuer !== opts.issuer) return { reason: `certificate OIDC issuer ${issuer ?? "(none)"} is not ${opts.issuer}` };
  let chainVerified: boolean | undefined;
  if (opts.trustRoot) {
    const pems = readFileSync(opts.trustRoot, "utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    chainVerified = pems.some((p) => {
      const ca = new X509Certificate(p);
      return cert.checkIssued(ca) && cert.verify(ca.publicKey);
    });
    if (!chainVerified) return { reason: `the signing certificate is not issued by a CA in ${opts.trustRoot}` };
  }
  const signer: Signer = {
    method: "certificate",
    ...(sans[0] ? { identity: sans[0] } : {}),
    ...(issuer ? { issuer } : {}),
    ...(chainVerified !== undefined ? { chainVerified } : {}),
  };
  return { value: { key: cert.publicKey, signer } };
}

/** The signed in-toto statement's digests by file name: model-transparency's resources, else the statement's subjects. */
function signedDigests(payload: Buffer): Step<Map<string, string>> {
  let statement: {
    predicate?: { resources?: { name?: string; digest?: string; algorithm?: string }[] };
    subject?: { name?: string; digest?: { sha256?: string } }[];
  };
  try {
    statement = JSON.parse(payload.toString("utf8"));
  } catch {
    return { reason: "the signed payload is not a JSON in-toto statement" };
  }
  const signed = new Map<string, string>();
  for (const r of statement.predicate?.resources ?? []) if (r.name && r.digest) signed.set(r.name, r.digest);
  if (!signed.size) for (const s of statement.subject ?? []) if (s.name && s.digest?.sha256) signed.set(s.name, s.digest.sha256);
  return { value: signed };
}

function compareFiles(files: { path: string; sha256: string }[], signed: Map<string, string>, sigFile: string, signer: Signer): SignatureReport {
  const out: SignatureReport["files"] = [];
  const present = new Set<string>();
  for (const f of files) {
    if (f.path === sigFile) continue;
    present.add(f.path);
    const want = signed.get(f.path);
    out.push({ path: f.path, status: want === undefined ? "unsigned" : want === f.sha256 ? "valid" : "mismatch" });
  }
  for (const name of signed.keys()) if (!present.has(name)) out.push({ path: name, status: "missing" });
  const bad = out.filter((f) => f.status !== "valid");
  return {
    status: bad.length ? "mismatch" : "valid",
    signature: sigFile,
    signer,
    ...(bad.length
      ? {
          reason: `${bad.length} file(s) not as signed: ${bad
            .slice(0, 5)
            .map((f) => `${f.path} (${f.status})`)
            .join(", ")}`,
        }
      : {}),
    files: out,
  };
}
