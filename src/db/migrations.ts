/**
 * Numbered schema migrations. Each runs once, in order, inside its own transaction;
 * `PRAGMA user_version` records the last one applied. Append only: never edit a shipped one.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: "directory, audit and tokens",
    sql: `
      -- The directory as the IdP sent it. pk is the internal row key; id is the SCIM id.
      CREATE TABLE users (
        pk            INTEGER PRIMARY KEY,
        id            TEXT NOT NULL UNIQUE,
        user_name     TEXT NOT NULL,
        -- userName is caseExact=false (RFC 7643 §4.1.1): uniqueness and lookups use the folded form.
        user_name_key TEXT NOT NULL UNIQUE,
        external_id   TEXT,
        active        INTEGER NOT NULL DEFAULT 1,
        data          TEXT NOT NULL,      -- the resource's attributes as JSON (no id, meta, groups)
        version       INTEGER NOT NULL DEFAULT 1,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
      );
      CREATE INDEX users_external_id ON users(external_id);
      CREATE INDEX users_updated_at ON users(updated_at);

      -- One row per email of a user, so email filters (Entra: emails[type eq "work"].value) use an index.
      CREATE TABLE user_emails (
        user_pk    INTEGER NOT NULL REFERENCES users(pk) ON DELETE CASCADE,
        value_key  TEXT NOT NULL,
        type_key   TEXT,
        is_primary INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX user_emails_value ON user_emails(value_key);
      CREATE INDEX user_emails_user ON user_emails(user_pk);

      CREATE TABLE groups (
        pk               INTEGER PRIMARY KEY,
        id               TEXT NOT NULL UNIQUE,
        display_name     TEXT NOT NULL,
        display_name_key TEXT NOT NULL,
        external_id      TEXT,
        data             TEXT NOT NULL,
        version          INTEGER NOT NULL DEFAULT 1,
        created_at       TEXT NOT NULL,
        updated_at       TEXT NOT NULL
      );
      CREATE INDEX groups_display_name ON groups(display_name_key);
      CREATE INDEX groups_external_id ON groups(external_id);
      CREATE INDEX groups_updated_at ON groups(updated_at);

      -- Membership rows: adding or removing one member costs the same in a group of 10 or 10,000.
      CREATE TABLE group_members (
        group_pk INTEGER NOT NULL REFERENCES groups(pk) ON DELETE CASCADE,
        user_pk  INTEGER NOT NULL REFERENCES users(pk) ON DELETE CASCADE,
        PRIMARY KEY (group_pk, user_pk)
      ) WITHOUT ROWID;
      CREATE INDEX group_members_user ON group_members(user_pk, group_pk);

      -- Append-only history of every change. before/after are JSON or NULL.
      CREATE TABLE audit_events (
        seq           INTEGER PRIMARY KEY,
        at            TEXT NOT NULL,
        actor         TEXT NOT NULL,
        request_id    TEXT,
        action        TEXT NOT NULL,
        resource_type TEXT NOT NULL,
        resource_id   TEXT,
        before        TEXT,
        after         TEXT
      );
      CREATE INDEX audit_events_resource ON audit_events(resource_type, resource_id);
      CREATE INDEX audit_events_request ON audit_events(request_id);

      -- Bearer tokens, stored only as SHA-256 hashes of the secret.
      CREATE TABLE tokens (
        id           INTEGER PRIMARY KEY,
        name         TEXT NOT NULL,
        scope        TEXT NOT NULL CHECK (scope IN ('scim', 'admin', 'reviewer')),
        hash         TEXT NOT NULL UNIQUE,
        created_at   TEXT NOT NULL,
        last_used_at TEXT,
        revoked_at   TEXT
      );
    `,
  },
  {
    version: 2,
    name: "identity map, jobs and drift",
    sql: `
      -- The identity map: one row per (user, app) saying what exists in the app. Keyed by the SCIM
      -- user id without a foreign key: a deleted user's accounts must outlive it until deprovisioned.
      CREATE TABLE app_accounts (
        user_id           TEXT NOT NULL,
        app               TEXT NOT NULL,
        external_id       TEXT,
        role              TEXT,
        state             TEXT NOT NULL CHECK (state IN ('pending', 'invited', 'active', 'disabled', 'removed', 'error')),
        profile           TEXT,                     -- JSON: the profile last written to the app
        settings          TEXT NOT NULL DEFAULT '{}',
        created_by_bridge INTEGER NOT NULL DEFAULT 0,
        last_sync_at      TEXT,
        last_error        TEXT,
        updated_at        TEXT NOT NULL,
        PRIMARY KEY (user_id, app)
      ) WITHOUT ROWID;
      CREATE INDEX app_accounts_app_state ON app_accounts(app, state);
      CREATE INDEX app_accounts_external ON app_accounts(app, external_id);

      -- Durable outbox: one row per user with work pending (key 'user:<id>'), so duplicates collapse.
      CREATE TABLE jobs (
        id           INTEGER PRIMARY KEY,
        key          TEXT NOT NULL UNIQUE,
        user_id      TEXT NOT NULL,
        request_id   TEXT,
        run_at       TEXT NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL,
        locked_by    TEXT,
        locked_until TEXT,
        rerun        INTEGER NOT NULL DEFAULT 0,  -- a change arrived while the job ran: run it again
        dead         INTEGER NOT NULL DEFAULT 0,  -- dead-lettered after max_attempts failures
        last_error   TEXT,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
      );
      CREATE INDEX jobs_ready ON jobs(dead, run_at);

      -- The last drift found per app by the reconciler, replaced on each pass.
      CREATE TABLE drift_items (
        app         TEXT NOT NULL,
        kind        TEXT NOT NULL,
        external_id TEXT,
        user_id     TEXT,
        email       TEXT,
        detail      TEXT NOT NULL,
        detected_at TEXT NOT NULL
      );
      CREATE INDEX drift_items_app ON drift_items(app);
    `,
  },
  {
    version: 3,
    name: "bridge state",
    sql: `
      -- Small facts the bridge keeps between runs, e.g. the fingerprint of the rules it last applied.
      CREATE TABLE bridge_state (
        key        TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 4,
    name: "manual tasks",
    sql: `
      -- Manual tasks for apps without an API: a person carries them out and says so.
      CREATE TABLE tasks (
        id            INTEGER PRIMARY KEY,
        app           TEXT NOT NULL,
        user_id       TEXT NOT NULL,
        action        TEXT NOT NULL,             -- a template action: invite, changeRole, remove, enable, disable, reinvite, delete
        role          TEXT,                      -- the bridge role the task grants (invite, changeRole)
        title         TEXT NOT NULL,
        steps         TEXT NOT NULL,             -- JSON array of instruction lines, already filled in
        profile       TEXT NOT NULL,             -- JSON: name and email the instructions were written for
        state         TEXT NOT NULL CHECK (state IN ('open', 'blocked', 'done', 'failed', 'cancelled')),
        reason        TEXT,                      -- why blocked, failed or cancelled
        assignee      TEXT,
        claimed_at    TEXT,
        due_at        TEXT NOT NULL,
        request_id    TEXT,
        completed_by  TEXT,
        completed_at  TEXT,
        note          TEXT,                      -- evidence or comment given on completion
        superseded_by INTEGER REFERENCES tasks(id),
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
      );
      -- At most one open (or blocked) task per user and app: a new plan supersedes it.
      CREATE UNIQUE INDEX tasks_one_open ON tasks(user_id, app) WHERE state IN ('open', 'blocked');
      CREATE INDEX tasks_state_due ON tasks(state, due_at);
      CREATE INDEX tasks_app_state ON tasks(app, state);
    `,
  },
  {
    version: 5,
    name: "notification outbox",
    sql: `
      -- Outbound webhook messages, written in the same transaction as the event they announce and
      -- delivered with retries, so a crash or a slow receiver loses none.
      CREATE TABLE notifications (
        id         INTEGER PRIMARY KEY,
        kind       TEXT NOT NULL,
        payload    TEXT NOT NULL,
        attempts   INTEGER NOT NULL DEFAULT 0,
        next_at    TEXT NOT NULL,
        sent_at    TEXT,
        dead       INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at TEXT NOT NULL
      );
      CREATE INDEX notifications_pending ON notifications(sent_at, dead, next_at);
      -- When a task's overdue notice went out, so it goes out once.
      ALTER TABLE tasks ADD COLUMN overdue_notified_at TEXT;
    `,
  },
  {
    version: 6,
    name: "review page sessions",
    sql: `
      -- Sign-ins to the review page at /admin. The cookie holds a random session id; only its
      -- SHA-256 is stored, so a copy of the database cannot be replayed as a cookie. The token the
      -- person signed in with is never stored: only its name and scope.
      CREATE TABLE sessions (
        id_hash    TEXT PRIMARY KEY,
        token_name TEXT NOT NULL,
        scope      TEXT NOT NULL CHECK (scope IN ('admin', 'reviewer')),
        csrf_token TEXT NOT NULL,                -- synchronizer token every form of the session carries
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX sessions_expires ON sessions(expires_at);
    `,
  },
  {
    version: 7,
    name: "token expiry and metrics scope",
    sql: `
      -- A rotated token keeps working until expires_at (the overlap lets the IdP be updated without
      -- a gap); the metrics scope reads /metrics and nothing else. SQLite cannot alter a CHECK
      -- constraint, so the table is rebuilt with its rows.
      CREATE TABLE tokens_v7 (
        id           INTEGER PRIMARY KEY,
        name         TEXT NOT NULL,
        scope        TEXT NOT NULL CHECK (scope IN ('scim', 'admin', 'reviewer', 'metrics')),
        hash         TEXT NOT NULL UNIQUE,
        created_at   TEXT NOT NULL,
        last_used_at TEXT,
        revoked_at   TEXT,
        expires_at   TEXT
      );
      INSERT INTO tokens_v7 (id, name, scope, hash, created_at, last_used_at, revoked_at)
        SELECT id, name, scope, hash, created_at, last_used_at, revoked_at FROM tokens;
      DROP TABLE tokens;
      ALTER TABLE tokens_v7 RENAME TO tokens;
    `,
  },
  {
    version: 8,
    name: "one owner per app account",
    sql: `
      -- The identity map becomes an invariant of the store (docs/provisioning.md, "Identity
      -- invariants"): an app account is linked to at most one live user, enforced by UNIQUE
      -- indexes over matching keys (trimmed, NFKC, case-folded: scim_matching_key), and every link
      -- records the app instance it was made against. A deleted user's links are released (kept as
      -- history) in the same transaction as the delete. SQLite cannot add constraints to a table,
      -- so it is rebuilt with its rows.
      CREATE TABLE app_accounts_v8 (
        user_id             TEXT NOT NULL,
        app                 TEXT NOT NULL,
        instance            TEXT NOT NULL,            -- '' for links made before v8, bound at the next start
        external_id         TEXT,
        external_key        TEXT,                     -- matching key of external_id while the link holds the account
        email_key           TEXT,                     -- matching key of the email the link holds in the app
        role                TEXT,
        state               TEXT NOT NULL CHECK (state IN ('pending', 'invited', 'active', 'disabled', 'removed', 'error')),
        profile             TEXT,
        settings            TEXT NOT NULL DEFAULT '{}',
        created_by_bridge   INTEGER NOT NULL DEFAULT 0,
        last_sync_at        TEXT,
        last_error          TEXT,
        conflict_with       TEXT,                     -- the user holding the account this one was refused
        create_unsettled_at TEXT,                     -- a create got no answer at this time and may land late
        released_at         TEXT,                     -- the user was deleted: history, not a live link
        updated_at          TEXT NOT NULL,
        PRIMARY KEY (user_id, app)
      ) WITHOUT ROWID;
      INSERT INTO app_accounts_v8 (user_id, app, instance, external_id, external_key, email_key, role, state, profile, settings,
                                   created_by_bridge, last_sync_at, last_error, released_at, updated_at)
        SELECT a.user_id, a.app, '', a.external_id,
               CASE WHEN a.state = 'removed' OR a.external_id IS NULL THEN NULL ELSE scim_matching_key(a.external_id) END,
               CASE WHEN a.state = 'removed' OR a.profile IS NULL THEN NULL ELSE scim_matching_key(json_extract(a.profile, '$.email')) END,
               a.role, a.state, a.profile, a.settings, a.created_by_bridge, a.last_sync_at, a.last_error,
               CASE WHEN u.id IS NULL THEN a.updated_at END, a.updated_at
        FROM app_accounts a LEFT JOIN users u ON u.id = a.user_id;
      -- Links the old store let two live users share (the takeover by email): the user created
      -- first keeps the account; the others lose the link and show the conflict until a person acts.
      UPDATE app_accounts_v8 SET external_key = NULL, email_key = NULL, state = 'error',
             last_error = 'conflict found on upgrade: another user holds this account',
             conflict_with = (SELECT k.user_id FROM app_accounts_v8 k JOIN users ku ON ku.id = k.user_id
                              WHERE k.app = app_accounts_v8.app AND k.released_at IS NULL AND k.user_id <> app_accounts_v8.user_id
                                AND (k.external_key = app_accounts_v8.external_key OR k.email_key = app_accounts_v8.email_key)
                              ORDER BY ku.pk LIMIT 1)
        WHERE released_at IS NULL AND EXISTS (
          SELECT 1 FROM app_accounts_v8 o JOIN users ou ON ou.id = o.user_id, users me
          WHERE me.id = app_accounts_v8.user_id AND o.app = app_accounts_v8.app AND o.released_at IS NULL
            AND o.user_id <> app_accounts_v8.user_id AND ou.pk < me.pk
            AND (o.external_key = app_accounts_v8.external_key OR o.email_key = app_accounts_v8.email_key));
      DROP TABLE app_accounts;
      ALTER TABLE app_accounts_v8 RENAME TO app_accounts;
      CREATE UNIQUE INDEX app_accounts_one_owner ON app_accounts(app, instance, external_key)
        WHERE external_key IS NOT NULL AND released_at IS NULL;
      CREATE UNIQUE INDEX app_accounts_one_email ON app_accounts(app, instance, email_key)
        WHERE email_key IS NOT NULL AND released_at IS NULL;
      CREATE INDEX app_accounts_app_state ON app_accounts(app, state);
      CREATE INDEX app_accounts_instance ON app_accounts(app, instance);
    `,
  },
  {
    version: 9,
    name: "one working token per name, sessions bound to their credential",
    sql: `
      -- A token name picks out one token (token revoke/rotate <name>, the audit actor token:<name>):
      -- at most one active token (neither revoked nor rotated out) carries a name. A token rotated
      -- out keeps its name until it expires and names the successor that took it over.
      ALTER TABLE tokens ADD COLUMN replaced_by INTEGER REFERENCES tokens(id);
      -- Rotated out before v9: the successor is the next token of that name, which rotation issued.
      UPDATE tokens SET replaced_by = (SELECT min(n.id) FROM tokens n WHERE n.name = tokens.name AND n.id > tokens.id)
        WHERE expires_at IS NOT NULL;
      -- Active namesakes the old store allowed: the newest keeps the name (it is the one most likely
      -- handed out last); each older one keeps working under "<name>#<id>", and the audit log says so.
      INSERT INTO audit_events (at, actor, request_id, action, resource_type, resource_id, before, after)
        SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'system', 'migration:9', 'token.rename', 'Token', CAST(t.id AS TEXT),
               json_object('name', t.name),
               json_object('name', t.name || '#' || t.id, 'reason', 'a newer active token has the same name and keeps it')
        FROM tokens t
        WHERE t.revoked_at IS NULL AND t.expires_at IS NULL
          AND EXISTS (SELECT 1 FROM tokens n WHERE n.name = t.name AND n.id > t.id AND n.revoked_at IS NULL AND n.expires_at IS NULL);
      UPDATE tokens SET name = name || '#' || id
        WHERE revoked_at IS NULL AND expires_at IS NULL
          AND EXISTS (SELECT 1 FROM tokens n WHERE n.name = tokens.name AND n.id > tokens.id AND n.revoked_at IS NULL AND n.expires_at IS NULL);
      CREATE UNIQUE INDEX tokens_one_active_name ON tokens(name) WHERE revoked_at IS NULL AND expires_at IS NULL;

      -- A session is bound to the credential that opened it: the stored token's id (NULL for a token
      -- from the environment) and an HMAC-SHA256 of the token's SHA-256 keyed by the session id,
      -- which only the cookie holds, so the column reveals nothing about the token without it.
      -- Sessions from before v9 are bound to nothing and end: everyone signs in once more.
      DELETE FROM sessions;
      ALTER TABLE sessions ADD COLUMN token_id INTEGER;
      ALTER TABLE sessions ADD COLUMN credential TEXT NOT NULL DEFAULT '';
      CREATE INDEX sessions_token ON sessions(token_id);
    `,
  },
  {
    version: 10,
    name: "approvals of destructive changes",
    sql: `
      -- Destructive actions (deactivate, remove, downgrade) that wait for a person
      -- (docs/provisioning.md, "Approvals"): a change of apps or rules, or more IdP-driven
      -- deprovisions in an app than its limit allows in a window. One change set per rules change
      -- or per tripped app; one hold per user and app in it.
      CREATE TABLE change_sets (
        id         INTEGER PRIMARY KEY,
        kind       TEXT NOT NULL CHECK (kind IN ('rules-change', 'deprovision-limit')),
        app        TEXT,                          -- the tripped app (deprovision-limit)
        state      TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'superseded')),
        summary    TEXT NOT NULL,                 -- JSON: the rule diff, or the limit and window
        created_at TEXT NOT NULL,
        decided_at TEXT,
        decided_by TEXT,
        note       TEXT
      );
      CREATE INDEX change_sets_state ON change_sets(state, kind, app);
      CREATE TABLE holds (
        change_id    INTEGER NOT NULL REFERENCES change_sets(id),
        user_id      TEXT NOT NULL,
        app          TEXT NOT NULL,
        action       TEXT NOT NULL CHECK (action IN ('deactivate', 'downgrade')),
        detail       TEXT NOT NULL,               -- JSON: what would be done and why
        user_version INTEGER,                     -- the directory version of the user when held
        state        TEXT NOT NULL CHECK (state IN ('held', 'done', 'void')),
        created_at   TEXT NOT NULL,
        settled_at   TEXT,
        PRIMARY KEY (change_id, user_id, app)
      ) WITHOUT ROWID;
      CREATE INDEX holds_user ON holds(user_id, app, state);
      -- IdP-driven deprovisions carried out per app, for the limit's window (one row per user and app).
      CREATE TABLE deprovisions (
        app     TEXT NOT NULL,
        user_id TEXT NOT NULL,
        at      TEXT NOT NULL,
        PRIMARY KEY (app, user_id)
      ) WITHOUT ROWID;
      CREATE INDEX deprovisions_window ON deprovisions(app, at);
    `,
  },
  {
    version: 11,
    name: "task verification by read-back",
    sql: `
      -- Verified by read-back (docs/manual-tasks.md): a done task of an app whose accounts can be
      -- read is 'pending' until the app shows the work ('verified'); an app that cannot be read
      -- leaves it 'unverifiable'. NULL while the task is not done (and for tasks done before v11).
      -- verified_how: 'read-back' (a done task checked) or 'found by read-back' (the work was
      -- found done in the app before anyone marked the task).
      ALTER TABLE tasks ADD COLUMN verification TEXT CHECK (verification IN ('pending', 'verified', 'unverifiable'));
      ALTER TABLE tasks ADD COLUMN verified_at TEXT;
      ALTER TABLE tasks ADD COLUMN verified_how TEXT CHECK (verified_how IN ('read-back', 'found by read-back'));
      CREATE INDEX tasks_verification ON tasks(app, verification) WHERE verification = 'pending';
    `,
  },
  {
    version: 12,
    name: "task tickets outbox",
    sql: `
      -- The HaloPSA ticket of a task (docs/manual-tasks.md, "Tasks as HaloPSA tickets"): one row
      -- per ticketed task, written in the transaction that writes the task, carried out by the
      -- ticket sync. to-create → open (ticket_id known) → to-close (the bridge ended the task) →
      -- closed; a ticket closed in HaloPSA goes open → closed, and back to open if reopened there.
      CREATE TABLE task_tickets (
        task_id     INTEGER PRIMARY KEY REFERENCES tasks(id),
        halopsa_app TEXT NOT NULL,                  -- the halopsa app whose instance holds the ticket
        ticket_id   INTEGER,                        -- NULL until HaloPSA answered the create
        state       TEXT NOT NULL CHECK (state IN ('to-create', 'open', 'to-close', 'closed')),
        close_note  TEXT,                           -- why the bridge closes it (to-close)
        attempts    INTEGER NOT NULL DEFAULT 0,
        run_at      TEXT NOT NULL,                  -- when the sync may next try (backoff)
        last_error  TEXT,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      );
      CREATE INDEX task_tickets_due ON task_tickets(state, run_at);
      CREATE UNIQUE INDEX task_tickets_ticket ON task_tickets(halopsa_app, ticket_id) WHERE ticket_id IS NOT NULL;
    `,
  },
  {
    version: 13,
    name: "a group member's display as the client sent it; an unassigned active is inactive",
    sql: `
      -- A member's display as the client sent it (RFC 7643 §4.2); NULL derives it from the user on read.
      -- On the membership row, so adding or removing one member still costs the same in any group.
      ALTER TABLE group_members ADD COLUMN display TEXT;
      -- A user whose active was removed (PATCH remove) was stored as active; unassigned is inactive.
      UPDATE users SET active = 0 WHERE active = 1 AND json_type(data, '$.active') IS NOT 'true';
    `,
  },
  {
    version: 14,
    name: "a ticket the bridge reopens: task_tickets state to-reopen, and its note for either step",
    sql: `
      -- A done task reopened in the bridge (read-back found the work missing) reopens its ticket:
      -- closed → to-reopen → open. SQLite cannot change a CHECK in place, so the table is rebuilt;
      -- close_note becomes note, the text posted on the ticket by a to-close or a to-reopen.
      CREATE TABLE task_tickets_v14 (
        task_id     INTEGER PRIMARY KEY REFERENCES tasks(id),
        halopsa_app TEXT NOT NULL,
        ticket_id   INTEGER,
        state       TEXT NOT NULL CHECK (state IN ('to-create', 'open', 'to-close', 'closed', 'to-reopen')),
        note        TEXT,
        attempts    INTEGER NOT NULL DEFAULT 0,
        run_at      TEXT NOT NULL,
        last_error  TEXT,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      );
      INSERT INTO task_tickets_v14 (task_id, halopsa_app, ticket_id, state, note, attempts, run_at, last_error, created_at, updated_at)
        SELECT task_id, halopsa_app, ticket_id, state, close_note, attempts, run_at, last_error, created_at, updated_at FROM task_tickets;
      DROP TABLE task_tickets;
      ALTER TABLE task_tickets_v14 RENAME TO task_tickets;
      CREATE INDEX task_tickets_due ON task_tickets(state, run_at);
      CREATE UNIQUE INDEX task_tickets_ticket ON task_tickets(halopsa_app, ticket_id) WHERE ticket_id IS NOT NULL;
    `,
  },
  {
    version: 15,
    name: "jobs: sweeps after the IdP's changes, and jobs_leased so the worker never scans the queue",
    sql: `
      -- A reconcile pass (or changed rules) queues every user: those jobs are a sweep, and every other
      -- job is claimed first, so a leaver's change never waits behind the whole directory.
      ALTER TABLE jobs ADD COLUMN sweep INTEGER NOT NULL DEFAULT 0;
      DROP INDEX jobs_ready;
      CREATE INDEX jobs_ready ON jobs(dead, sweep, run_at);
      -- The worker asks after each pass when the next job is due. Only leased rows carry
      -- locked_until (every release clears it), so this index stays small.
      CREATE INDEX jobs_leased ON jobs(locked_until) WHERE locked_until IS NOT NULL;
    `,
  },
];
