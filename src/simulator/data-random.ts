/** A table of choices and their relative weights (weights need not add up to anything). */
export type Weighted<T> = readonly (readonly [T, number])[];

const HEX_BYTES = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
const ALNUM = '0123456789abcdefghijklmnopqrstuvwxyz';
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * A seeded pseudo-random source (sfc32, its state filled by splitmix32). The tenant must depend on the seed
 * alone, byte for byte and on every Node version, which rules out `Math.random` and anything reading the clock.
 */
export class Random {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    // Fold in the high bits too, so that seeds differing only above 2^32 still give different tenants.
    let state = (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) >>> 0, 0x9e3779b1);
    const splitmix = (): number => {
      state = (state + 0x9e3779b9) | 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = splitmix();
    this.#b = splitmix();
    this.#c = splitmix();
    this.#d = splitmix();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** A signed 32-bit integer, as in the part of an alert id after `_`. */
  int32(): number {
    return this.uint32() | 0;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.uint32() / 2 ** 32;
  }

  /** An integer in [min, max], both inclusive; exact for spans up to 2^53 (ticks over years). */
  int(min: number, max: number): number {
    if (max <= min) return min;
    const span = max - min + 1;
    if (span <= 2 ** 32) return min + Math.floor(this.float() * span);
    const wide = this.uint32() * 2 ** 21 + (this.uint32() >>> 11);
    return min + (wide % span);
  }

  chance(probability: number): boolean {
    return this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('cannot pick from an empty list');
    return items[Math.floor(this.float() * items.length)]!;
  }

  weighted<T>(table: Weighted<T>): T {
    let total = 0;
    for (const [, weight] of table) total += weight;
    let roll = this.float() * total;
    for (const [value, weight] of table) {
      roll -= weight;
      if (roll < 0) return value;
    }
    return table[table.length - 1]![0];
  }

  /** Up to `count` distinct items, in random order. */
  sample<T>(items: readonly T[], count: number): T[] {
    const copy = [...items];
    const n = Math.min(count, copy.length);
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(this.float() * (copy.length - i));
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy.slice(0, n);
  }

  /** Lower-case hex digits. */
  hex(length: number): string {
    let out = '';
    for (let i = 0; i < length; i += 4) {
      const word = this.uint32();
      out += HEX_BYTES[word & 0xff]! + HEX_BYTES[(word >>> 8) & 0xff]!;
    }
    return out.length === length ? out : out.slice(0, length);
  }

  /** Lower-case letters and digits, as in Windows' generated host names (`desktop-8k2j4lq`). */
  alnum(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += ALNUM[Math.floor(this.float() * ALNUM.length)];
    return out;
  }

  base64(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += BASE64[Math.floor(this.float() * BASE64.length)];
    return out;
  }

  /** A version-4 GUID, lower case. */
  guid(): string {
    const h = this.hex(32);
    const variant = '89ab'[this.int(0, 3)];
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20)}`;
  }
}
