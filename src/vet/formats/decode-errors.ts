/** The two ways a bounded decoder (decoders.ts, lz4.ts) refuses a stream that is not simply broken. */

/** The decompressed output passed the cap: a decompression bomb, or a file too large to vet. */
export class TooLarge extends Error {}

/** A well-formed stream using an option the decoder does not implement: its contents cannot be read. */
export class Unsupported extends Error {}
