/**
 * The one place that knows every secret the bridge holds and takes them out of any text: error
 * bodies from HaloPSA and Huntress, transport and webhook failures, job and identity-map errors,
 * audit events and log lines all pass through `scrub` before they are cut, logged, stored or
 * returned.
 *
 * A secret is looked for in every form an upstream could echo it in (docs/operations.md,
 * "Secrets"): raw; URL-encoded (`%20`) and form-encoded (`+` for a space, as
 * application/x-www-form-urlencoded bodies carry it), with upper- or lower-case hex; JSON-escaped
 * (RFC 8259 §7, plus the `\/` that some encoders write and the `\u00XX` escapes of .NET's default
 * JavaScriptEncoder, which HaloPSA's ASP.NET answers use for `+ < > & '`); base64 and base64url of the
 * secret alone and of `user:secret` (RFC 7617 §2, HTTP Basic, as Huntress's API and an OAuth client
 * authenticating with client_secret_basic send it).
 *
 * A piece of a secret is a leak too: an upstream that truncates its own message, or a cut that
 * falls inside a secret, leaves its first characters. So any run of PIECE or more characters that
 * matches the start of a form (or, for the raw secret, any part of it) is replaced as well.
 *
 * Secrets the bridge learns at runtime (access tokens as HaloPSA issues them, bearer tokens
 * presented to it) are registered as they arrive and kept, newest last, up to ROTATING of them.
 */

const REDACTED = "[redacted]";
/** A run of this many characters of a secret counts as the secret. */
export const PIECE = 12;
/** Shorter values are not secrets worth matching: they would redact ordinary words. */
const MIN_SECRET = 6;
/** Runtime secrets kept (access tokens rotate about hourly; presented bearer tokens are few). */
const ROTATING = 64;

/** Credentials written in a header's shape, whoever they belong to (RFC 6750 §2.1, RFC 7617 §2). */
const BEARER = /\bBearer\s+[A-Za-z0-9._~+/-]{8,}=*/g;
const BASIC = /\bBasic\s+[A-Za-z0-9+/]{16,}={0,2}/g;

/** What a secret may be registered with: the user half of a `user:secret` Basic pair. */
export interface SecretOptions {
  readonly user?: string;
}

interface Piece {
  readonly form: string;
  /** Where in `form` the indexed piece starts. */
  readonly at: number;
}

const base64 = (s: string): string => Buffer.from(s, "utf8").toString("base64");
const base64url = (s: string): string => Buffer.from(s, "utf8").toString("base64url");
const formEncoded = (s: string): string => new URLSearchParams({ s }).toString().slice(2);
const lowerHex = (s: string): string => s.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase());
const json = (s: string): string => JSON.stringify(s).slice(1, -1);
/** .NET System.Text.Json's default encoder: HTML-sensitive characters and non-ASCII as \uXXXX. */
const dotnetJson = (s: string, hex: (c: number) => string): string =>
  json(s).replace(/[+<>&'`]|[^\x20-\x7e]/g, (c) => `\\u${hex(c.charCodeAt(0)).padStart(4, "0")}`);

/** Every form of one secret an upstream could echo. */
export function formsOf(secret: string, options: SecretOptions = {}): string[] {
  const values = [secret, base64(secret), base64url(secret), base64(secret).replace(/=+$/, "")];
  if (options.user !== undefined) {
    const pair = `${options.user}:${secret}`;
    values.push(base64(pair), base64url(pair));
  }
  const forms = values.flatMap((v) => [
    v,
    encodeURIComponent(v),
    lowerHex(encodeURIComponent(v)),
    formEncoded(v),
    lowerHex(formEncoded(v)),
    json(v),
    json(v).replace(/\//g, "\\/"),
    dotnetJson(v, (c) => c.toString(16).toUpperCase()),
    dotnetJson(v, (c) => c.toString(16)),
  ]);
  return [...new Set(forms)];
}

/** What went wrong, in words, without a secret: for every error text the bridge stores or logs. */
export function errorText(e: unknown, scrub: (text: string) => string): string {
  return scrub(e instanceof Error ? e.message : String(e));
}

export class SecretScrubber {
  private readonly fixed = new Map<string, readonly string[]>();
  /** Insertion order is age: the oldest is dropped first. */
  private readonly rotating = new Map<string, readonly string[]>();
  private index: { pieces: Map<string, Piece[]>; short: string[] } | null = null;

  /** A secret known from the configuration: kept for the life of the process. */
  register(secret: string | undefined, options: SecretOptions = {}): void {
    if (secret === undefined || secret.length < MIN_SECRET) return;
    const key = `${options.user ?? ""}\u0000${secret}`;
    if (this.fixed.has(key)) return;
    this.fixed.set(key, formsOf(secret, options));
    this.index = null;
  }

  /** A secret learnt at runtime (an access token, a presented bearer token): the newest ROTATING are kept. */
  registerRotating(secret: string): void {
    if (secret.length < MIN_SECRET || this.fixed.has(`\u0000${secret}`)) return;
    if (this.rotating.delete(secret)) {
      this.rotating.set(secret, formsOf(secret));
      return;
    }
    this.rotating.set(secret, formsOf(secret));
    if (this.rotating.size > ROTATING) this.rotating.delete(this.rotating.keys().next().value!);
    this.index = null;
  }

  /** The text with every form of every secret, and every long piece of one, replaced. */
  readonly scrub = (text: string): string => {
    const { pieces, short } = (this.index ??= this.build());
    let out = short.length === 0 ? text : short.reduce((t, form) => t.split(form).join(REDACTED), text);
    if (pieces.size > 0 && out.length >= PIECE) out = this.scrubPieces(out, pieces);
    return out.replace(BEARER, `Bearer ${REDACTED}`).replace(BASIC, `Basic ${REDACTED}`);
  };

  /** Scrubbed first, then cut to `max` characters: no cut ever leaves a piece of a secret behind. */
  cut(text: string, max: number): string {
    const clean = this.scrub(text);
    return clean.length > max ? `${clean.slice(0, max)}…` : clean;
  }

  private scrubPieces(text: string, pieces: Map<string, Piece[]>): string {
    let out = "";
    let kept = 0;
    for (let i = 0; i + PIECE <= text.length; ) {
      const found = pieces.get(text.slice(i, i + PIECE));
      if (found === undefined) {
        i++;
        continue;
      }
      let longest = PIECE;
      for (const { form, at } of found) {
        let n = PIECE;
        while (at + n < form.length && i + n < text.length && text[i + n] === form[at + n]) n++;
        longest = Math.max(longest, n);
      }
      out += text.slice(kept, i) + REDACTED;
      i += longest;
      kept = i;
    }
    return out + text.slice(kept);
  }

  /**
   * Pieces of PIECE characters, looked up as the text is read once: the start of every form, and
   * every position of the raw secret (a cut may fall anywhere in it). Forms too short to have a
   * piece are replaced whole.
   */
  private build(): { pieces: Map<string, Piece[]>; short: string[] } {
    const pieces = new Map<string, Piece[]>();
    const short = new Set<string>();
    const add = (form: string, at: number) => {
      const key = form.slice(at, at + PIECE);
      const list = pieces.get(key);
      if (list) list.push({ form, at });
      else pieces.set(key, [{ form, at }]);
    };
    for (const forms of [...this.fixed.values(), ...this.rotating.values()]) {
      forms.forEach((form, i) => {
        if (form.length < PIECE) return void short.add(form);
        // formsOf puts the raw secret first.
        const last = i === 0 ? form.length - PIECE : 0;
        for (let at = 0; at <= last; at++) add(form, at);
      });
    }
    // Longest first, so a form that contains a shorter one is replaced whole.
    return { pieces, short: [...short].sort((a, b) => b.length - a.length) };
  }
}
