/**
 * Code shipped beside the weights: Python sources (transformers runs them with
 * trust_remote_code=True) and executables or scripts (ELF, Mach-O, Java class, PE, `#!`).
 */
import type { FormatDef } from "./format.js";

const EXEC_EXT = /\.(sh|bash|zsh|bat|cmd|ps1|exe|dll|so|dylib|com|scr|vbs|jar|msi|app|run)$/i;

function binaryMagic(head: Buffer, name: string): boolean {
  if (head.length >= 4) {
    const be = head.readUInt32BE(0);
    const le = head.readUInt32LE(0);
    if (be === 0x7f454c46 || be === 0xcafebabe || le === 0xfeedfacf || le === 0xfeedface) return true;
  }
  return head.length >= 2 && head.toString("latin1", 0, 2) === "MZ" && /\.(exe|dll|sys|scr|com)$/i.test(name);
}

const shebang = (head: Buffer) => head.length >= 2 && head.toString("latin1", 0, 2) === "#!";

export const pythonFormat: FormatDef = {
  magic: (head, _size, name) => (shebang(head) && /\.py$/i.test(name) ? "python" : undefined),
  named: (name) => (/\.py$/i.test(name) ? "python" : undefined),
  scan: (_input, format) => ({
    format,
    issues: [
      {
        severity: "high",
        rule: "repo.python-code",
        message: "Python source in the model repository: transformers runs it when loaded with trust_remote_code=True",
      },
    ],
  }),
};

export const executableFormat: FormatDef = {
  magic: (head, _size, name) => (binaryMagic(head, name) || (shebang(head) && !/\.py$/i.test(name)) ? "executable" : undefined),
  named: (name) => (EXEC_EXT.test(name) ? "executable" : undefined),
  scan: ({ head }, format) => ({
    format,
    issues: [
      { severity: "high", rule: "repo.executable", message: "an executable or script ships with the model", evidence: head.subarray(0, 4).toString("hex") },
    ],
  }),
};
