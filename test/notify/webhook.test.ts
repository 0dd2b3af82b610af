/**
 * Task notifications to a webhook: a real receiver on loopback, a real SQLite outbox.
 */
import { createServer, type Server } from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli.js";
import { openDatabase, type Db } from "../../src/db/database.js";
import { NotificationOutbox } from "../../src/db/notifications.js";
import { TaskStore } from "../../src/db/tasks.js";
import { chatFormatOf } from "../../src/notify/chat-markup.js";
import { WebhookNotifier } from "../../src/notify/webhook.js";
import { ADMIN_TOKEN, SCIM_TOKEN, startBridge } from "../support/bridge.js";
import { capturingLogger } from "../support/io.js";
import { freePort } from "../support/child-bridge.js";
import { create, patch, userBody } from "../support/scim.js";

interface Receiver {
  url: string;
  bodies: any[];
  /** Answer 500 to this many requests first. */
  failFirst: number;
  close(): Promise<void>;
}

async function receiver(): Promise<Receiver> {
  const r = { bodies: [] as any[], failFirst: 0 } as Receiver;
  const server: Server = createServer((req, res) => {
    let data = "";
    req.on("data", (c: Buffer) => (data += c.toString()));
    req.on("end", () => {
      if (r.failFirst > 0) {
        r.failFirst--;
        res.writeHead(500).end("nope");
        return;
      }
      r.bodies.push(JSON.parse(data));
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  r.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook/SECRET-PART`;
  r.close = () => new Promise((resolve) => server.close(() => resolve()));
  return r;
}

const quiet = () => capturingLogger("error").log;
const until = async (check: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("webhook notifications", () => {
  let hook: Receiver;
  beforeEach(async () => {
    hook = await receiver();
  });
  afterEach(async () => hook.close());

  it("posts a Slack/Teams-readable message when a SCIM change raises a task, without any token or the webhook URL in logs", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "scim-bridge-hook-")), "bridge.yaml");
    writeFileSync(
      file,
      "apps:\n  - { name: huntress, type: manual, template: huntress }\nrules:\n  - { group: Huntress Users, app: huntress, role: standard }\nprovisioning: { reconcileIntervalMinutes: 0 }\nnotifications: { overdueCheckSeconds: 0.2 }\n",
    );
    const bridge = await startBridge({ SCIM_BRIDGE_CONFIG: file, SCIM_BRIDGE_WEBHOOK_URL: hook.url });
    try {
      const ada = await create(bridge, "Users", userBody("ada@example.com", { displayName: "Ada Lovelace" }));
      const group = await create(bridge, "Groups", { displayName: "Huntress Users" });
      await bridge.scim("PATCH", `/Groups/${group.id}`, patch({ op: "add", path: "members", value: [{ value: ada.id }] }));
      await until(() => hook.bodies.length === 1);
      expect(hook.bodies[0]).toMatchObject({
        event: "task.created",
        text: expect.stringMatching(/^New task for huntress: Invite Ada Lovelace to Huntress as Standard User \(due .*\)\. Review queue: http.*\/admin$/),
        task: { app: "huntress", title: "Invite Ada Lovelace to Huntress as Standard User", state: "open" },
      });
      // A task completed from the CLI raises the confirm step; the CLI queues its notice and the
      // running bridge delivers it on its next pass.
      const lines: string[] = [];
      const code = runCli(["tasks", "done", String(hook.bodies[0].task.id)], (l) => lines.push(l), {
        SCIM_BRIDGE_CONFIG: file,
        SCIM_BRIDGE_DB: bridge.dbFile,
        SCIM_BRIDGE_WEBHOOK_URL: hook.url,
      });
      expect(code, lines.join("\n")).toBe(0);
      await until(() => hook.bodies.length === 2);
      expect(hook.bodies[1]).toMatchObject({ event: "task.created", task: { title: "Confirm Ada Lovelace accepted the Huntress invitation" } });
      const everything = JSON.stringify(hook.bodies) + bridge.logLines.join("\n") + lines.join("\n");
      for (const secret of [SCIM_TOKEN, ADMIN_TOKEN, "SECRET-PART"]) expect(everything).not.toContain(secret);
    } finally {
      await bridge.close();
    }
  });

  describe("delivery", () => {
    let db: Db;
    let tasks: TaskStore;
    let outbox: NotificationOutbox;
    const clock = { now: () => new Date() };
    beforeEach(() => {
      db = openDatabase(join(mkdtempSync(join(tmpdir(), "scim-bridge-outbox-")), "o.db"));
      tasks = new TaskStore(db, clock);
      outbox = new NotificationOutbox(db, clock);
    });
    const notifier = (over: Partial<ConstructorParameters<typeof WebhookNotifier>[0]> = {}) =>
      new WebhookNotifier({ url: hook.url, db, outbox, clock, log: quiet(), scrub: (text) => text, queueUrl: "https://bridge.example.com/admin", baseDelayMs: 10, maxAttempts: 4, ...over });
    const task = (dueAt: string, over: Partial<Parameters<TaskStore["insert"]>[0]> = {}) =>
      tasks.insert({
        app: "huntress",
        userId: "u1",
        action: "invite",
        role: "admin",
        title: "Invite Ada Lovelace to Huntress as Account Admin",
        steps: ["x"],
        profile: { userName: "ada@example.com", email: "ada@example.com", givenName: "Ada", familyName: "Lovelace", displayName: "Ada Lovelace" },
        state: "open",
        reason: null,
        dueAt,
        requestId: null,
        ...over,
      });

    it("retries a failing receiver with backoff until it takes the message", async () => {
      hook.failFirst = 2;
      const n = notifier();
      n.taskRaised(task(new Date(Date.now() + 3_600_000).toISOString()));
      await until(() => {
        void n.deliver();
        return hook.bodies.length === 1;
      });
      expect(outbox.stats()).toEqual({ pending: 0, dead: 0, sent: 1 });
    });

    it("gives up after the last attempt and keeps the message as dead", async () => {
      hook.failFirst = 100;
      const n = notifier({ maxAttempts: 2 });
      n.taskRaised(task(new Date(Date.now() + 3_600_000).toISOString()));
      await until(() => {
        void n.deliver();
        return outbox.stats().dead === 1;
      });
      expect(hook.bodies).toEqual([]);
    });

    it("records a refused connection with the receiver's host, port and the cause in words", async () => {
      const port = await freePort();
      const { log, lines } = capturingLogger("warn");
      const n = notifier({ url: `http://127.0.0.1:${port}/hooks/secret-path`, log, maxAttempts: 1 });
      n.taskRaised(task(new Date(Date.now() + 3_600_000).toISOString()));
      await n.deliver();
      expect(lines.join("\n")).toContain(`cannot reach 127.0.0.1:${port}: connection refused`);
      expect(lines.join("\n")).not.toContain("secret-path");
    });

    describe("escapes chat markup in IdP-supplied values", () => {
      const hostile = "<!channel> URGENT <https://evil.example/login|re-enter your password> [click](https://evil.example)";
      const hostileTask = () =>
        task("2030-01-01T00:00:00.000Z", {
          userId: "u2",
          title: `Invite ${hostile} to Huntress`,
          profile: { userName: "eve@example.com", email: "eve@example.com", givenName: "Eve", familyName: "X", displayName: hostile },
        });
      /** The one message the receiver got for the hostile task, escaped for `format`. */
      const sent = async (format: "slack" | "teams") => {
        notifier({ format }).taskRaised(hostileTask());
        await until(() => hook.bodies.length === 1);
        return hook.bodies[0];
      };

      it("for Slack: & < > as entities, so no <!channel> ping and no <url|label> link", async () => {
        const body = await sent("slack");
        expect(body.text).toBe(
          "New task for huntress: Invite &lt;!channel&gt; URGENT &lt;https://evil.example/login|re-enter your password&gt; [click](https://evil.example) to Huntress " +
            "(due 2030-01-01T00:00:00.000Z). Review queue: https://bridge.example.com/admin",
        );
        // The structured fields carry the value as the IdP sent it.
        expect(body.task.title).toBe(`Invite ${hostile} to Huntress`);
      });

      it("for Teams: HTML entities and backslash-escaped Markdown, so no <at> mention, tag or [label](url) link", async () => {
        expect((await sent("teams")).text).toBe(
          "New task for huntress: Invite &lt;\\!channel&gt; URGENT &lt;https://evil.example/login\\|re-enter your password&gt; \\[click\\]\\(https://evil.example\\) to Huntress " +
            "(due 2030-01-01T00:00:00.000Z). Review queue: https://bridge.example.com/admin",
        );
      });

      it("picks Slack's escaping for a hooks.slack.com URL and the stricter Teams escaping otherwise", () => {
        expect(chatFormatOf("https://hooks.slack.com/services/T0/B0/x")).toBe("slack");
        expect(chatFormatOf("https://acme.webhook.office.com/webhookb2/x")).toBe("teams");
        expect(chatFormatOf("http://127.0.0.1:9/hook")).toBe("teams");
        expect(chatFormatOf("https://relay.example.com/hook", "slack")).toBe("slack");
      });
    });

    it("announces a task becoming overdue once, naming who claimed it", async () => {
      const t = task(new Date(Date.now() - 1000).toISOString());
      tasks.claim(t.id, "sam");
      const n = notifier();
      expect(n.checkOverdue()).toBe(1);
      expect(n.checkOverdue()).toBe(0);
      await n.deliver();
      expect(hook.bodies).toMatchObject([{ event: "task.overdue", text: expect.stringContaining("claimed by sam"), task: { id: t.id, assignee: "sam" } }]);
    });
  });
});
