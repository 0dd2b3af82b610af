/**
 * Whether render.ts's userJson may write a stored attribute text into a response as it is, and
 * whether it holds the enterprise extension. Substring checks, no parse: they run for every user
 * of every list page.
 *
 * They rely on two facts of the stored text. It is JSON.stringify's output (RFC 8259: no
 * whitespace, a `"` inside a string written `\"`), so in a text without `\` every `"` delimits a
 * string and `"name":` is exactly a key. And input coercion (scim/coerce.ts) stores only the
 * attributes and sub-attributes the schemas define, so no nested key is named like a top-level
 * one: `"<enterprise URN>":` is the extension itself.
 */

/**
 * What rules a text out, in one pass: a `\`, an empty array, or a name the bridge writes into a
 * served user as a key (`schemas`, `id`, `groups`, `meta`: stored attributes never hold them, coerce
 * drops them on input, so this only guards against a text written some other way).
 */
const NOT_SPLICEABLE = /\\|:\[\]|"(?:schemas|id|groups|meta)":/;

/** Whether the stored text has `name` as a key (see above: exact for a text that passes `canSplice`). */
export function hasKey(text: string, name: string): boolean {
  return text.includes(`"${name}":`);
}

/**
 * Whether `text` may be written into a response as it is. Not when it has a `\` anywhere (a
 * quoted quote could look like a key), an empty array anywhere (a top-level one is unassigned and
 * omitted when served: RFC 7643 §2.5), a served name among the keys, or `added` names (computed
 * extensions about to be appended) among them.
 */
export function canSplice(text: string, added: readonly string[] = []): boolean {
  return !NOT_SPLICEABLE.test(text) && !added.some((name) => hasKey(text, name));
}
