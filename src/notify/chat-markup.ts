/**
 * Chat markup in webhook text. Every value the IdP (or a reviewer) supplies, such as a display name,
 * a user name, an email, a group name or a task title, is escaped before it goes into a message, so
 * it is shown as typed and can neither ping a channel nor pass a link off as something else.
 */

/** Which chat reads the `text`: Slack's mrkdwn, or Teams' Markdown with limited HTML. */
export type ChatFormat = "slack" | "teams";

/**
 * Slack API, "Formatting text for app surfaces", section "Escaping text": `&`, `<` and `>` are
 * control characters (they open `<!channel>`, `<@U123>` and `<https://…|label>`) and must be sent
 * as `&amp;`, `&lt;` and `&gt;`. Slack decodes only these three, so nothing else is encoded; a
 * markdown link `[x](y)` is not Slack syntax and shows as typed.
 */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Microsoft Teams platform docs, "Format cards in Microsoft Teams", sections "Format cards with
 * Markdown" and "Format cards with HTML": connector-card text is Markdown plus limited HTML, and a
 * mention is the `<at>` tag. So `&`, `<` and `>` become HTML entities (no tag, no `<at>`, no
 * autolink `<url>`), and the Markdown characters that make links, emphasis, code and headings are
 * backslash-escaped (CommonMark §2.4, "Backslash escapes"): `[click](https://…)` is shown as typed.
 * A bare URL is still linked by the client, but it shows where it goes.
 */
export function escapeTeams(text: string): string {
  return escapeSlack(text).replace(/[\\`*_[\]()#~|!]/g, (c) => `\\${c}`);
}

/** Known webhook hosts: Slack's incoming webhooks are on hooks.slack.com (Slack API, "Sending messages using incoming webhooks"). */
const SLACK_HOST = /(^|\.)hooks\.slack\.com$/i;

/**
 * The chat a webhook URL belongs to, unless the config says (a proxy or relay hides the host).
 * Anything not Slack's gets the Teams escaping, the stricter of the two: it also neutralises
 * Slack's markup, at the cost of a few visible backslashes in a plain JSON receiver.
 */
export function chatFormatOf(url: string | undefined, configured?: ChatFormat): ChatFormat {
  if (configured !== undefined) return configured;
  if (url === undefined) return "teams";
  return SLACK_HOST.test(new URL(url).hostname) ? "slack" : "teams";
}

export function escapeFor(format: ChatFormat): (text: string) => string {
  return format === "slack" ? escapeSlack : escapeTeams;
}
