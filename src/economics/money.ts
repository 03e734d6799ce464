/**
 * Money without float drift: prices are USD per 1M tokens in config and data; a request's cost is
 * computed in integer pico-USD (1e-12 USD): tokens × round(price × 1e6). Exact for prices with up
 * to six decimals (USD 0.000001 per 1M tokens), far finer than any published price.
 */
export interface TokenPrice {
  /** USD per 1M input tokens. */
  input: number;
  /** USD per 1M output tokens. */
  output: number;
  cachedInput?: number;
}

export function picoPerToken(usdPerMillion: number): number {
  return Math.round(usdPerMillion * 1e6);
}

export function costPusd(inputTokens: number, outputTokens: number, price: TokenPrice): number {
  return inputTokens * picoPerToken(price.input) + outputTokens * picoPerToken(price.output);
}

/** Sum pico-USD amounts exactly (BigInt), return USD. */
export function sumPusdToUsd(amounts: Iterable<number>): number {
  let total = 0n;
  for (const a of amounts) total += BigInt(a);
  return Number(total) / 1e12;
}
