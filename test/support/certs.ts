/** Self-signed P-256 certificates made with the openssl command, for TLS and signing tests. */
import { execFileSync } from "node:child_process";
import { join } from "node:path";

/** Writes NAME.key and NAME.pem in `dir` (a 2-day certificate for `subject`); returns their paths. */
export function selfSignedCert(dir: string, name: string, subject: string, extra: string[] = []): { key: string; cert: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  const args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-subj", subject, "-days", "2"];
  try {
    execFileSync("openssl", [...args, ...extra], { stdio: "pipe" });
  } catch (e) {
    throw new Error(`this test needs the openssl command (apt-get install -y openssl): ${(e as Error).message}`);
  }
  return { key, cert };
}
