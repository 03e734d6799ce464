/**
 * The phone detector skips libphonenumber for candidates that cannot be a valid national number of
 * the default country. Held against libphonenumber itself: whatever the pre-check skips, it calls
 * invalid too, across countries, written forms, national prefixes and calling codes.
 */
import { type CountryCode, parsePhoneNumberFromString } from "libphonenumber-js";
import { describe, expect, it } from "vitest";
import { mayBeNationalNumber, nationalShape } from "../../src/detect/index.js";
import { seededRng } from "../../src/stats/rng.js";

const COUNTRIES: CountryCode[] = ["US", "GB", "DE", "FR", "IN", "JP", "BR", "AR", "AU", "NL"];

describe("phone pre-check", () => {
  it("never skips a number libphonenumber calls valid (10 countries, 30,000 candidates)", () => {
    const rng = seededRng(7);
    const digit = () => String(Math.floor(rng() * 10));
    const counts: Record<string, number> = {};
    for (const country of COUNTRIES) {
      const shape = nationalShape(country);
      let skipped = 0;
      let valid = 0;
      for (let i = 0; i < 3000; i++) {
        const len = 7 + Math.floor(rng() * 9);
        let d = Array.from({ length: len }, digit).join("");
        const r = rng();
        if (r < 0.2 && shape.prefix) d = shape.prefix + d.slice(shape.prefix.length);
        else if (r < 0.35) d = shape.callingCode + d.slice(shape.callingCode.length);
        // Written forms the candidate pattern accepts: groups with spaces, dashes, dots, an (area).
        const raw = r < 0.5 ? `${d.slice(0, 3)}-${d.slice(3)}` : r < 0.7 ? `(${d.slice(0, 3)}) ${d.slice(3, 6)} ${d.slice(6)}` : d;
        const isValid = parsePhoneNumberFromString(raw, country)?.isValid() === true;
        if (isValid) valid++;
        // Numbers with an IDD prefix always go to libphonenumber; the pre-check is for the rest.
        if (!d.startsWith(shape.idd) && !mayBeNationalNumber(shape, d)) {
          skipped++;
          expect(isValid, `${country} ${raw}`).toBe(false);
        }
      }
      expect(valid + skipped).toBeLessThanOrEqual(3000);
      counts[country] = skipped;
    }
    // It does its job for the default country (US): most random digit groups cannot be numbers there.
    expect(counts.US).toBeGreaterThan(1000);
  });

  it("lets real numbers through", () => {
    const us = nationalShape("US");
    for (const d of ["4155550132", "14155550132", "8005550199"]) expect(mayBeNationalNumber(us, d), d).toBe(true);
    expect(mayBeNationalNumber(us, "5821312345")).toBe(false); // an order number: exchange 131 cannot be
    const gb = nationalShape("GB");
    for (const d of ["02079460958", "2079460958", "442079460958"]) expect(mayBeNationalNumber(gb, d), d).toBe(true);
  });
});
