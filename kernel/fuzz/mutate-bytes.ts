/** Byte-level faults: flips, overwrites, deletions and truncations, unaware of the format. */
import { intBelow, Rng } from "./rng";

const TEXT_BYTES = '<>"=/0123456789-,';

/** One to four flips, overwrites or deletions; text files get structural characters as overwrites. */
export function flipBytes(src: Buffer, r: Rng, text: boolean): { bytes: Buffer; detail: string } {
  let b = Buffer.from(src);
  const edits: string[] = [];
  for (let e = 1 + intBelow(r, 4); e > 0; e--) {
    const at = intBelow(r, b.length);
    const kind = intBelow(r, 3);
    if (kind === 0) {
      b[at] ^= 1 << intBelow(r, 8);
      edits.push(`flip@${at}`);
    } else if (kind === 1) {
      b[at] = text ? TEXT_BYTES.charCodeAt(intBelow(r, TEXT_BYTES.length)) : intBelow(r, 256);
      edits.push(`set@${at}`);
    } else {
      const n = 1 + intBelow(r, 16);
      b = Buffer.concat([b.subarray(0, at), b.subarray(at + n)]);
      edits.push(`delete ${n}@${at}`);
    }
  }
  return { bytes: b, detail: edits.join(", ") };
}

/** Cuts the file at a random point (possibly to nothing). */
export function truncateBytes(src: Buffer, r: Rng): { bytes: Buffer; detail: string } {
  const at = intBelow(r, src.length);
  return { bytes: src.subarray(0, at), detail: `truncate to ${at} of ${src.length} bytes` };
}
