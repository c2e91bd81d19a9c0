import Foundation
import GRDB
import RecallCore

extension SQLiteBackend {
  /// The schema's migrations, by name. Append only: never edit or reorder one
  /// that has shipped; add a new one.
  static var migrator: DatabaseMigrator {
    var migrator = DatabaseMigrator()
    for (identifier, migrate) in migrations {
      migrator.registerMigration(identifier, migrate: migrate)
    }
    return migrator
  }

  /// The names of the migrations, in order: what a current store has applied.
  /// (Checking a store against these needs no GRDB migrator, which would
  /// slow a fresh process's open: scenario C.)
  static let migrationIdentifiers = migrations.map(\.identifier)

  private static let migrations:
    [(identifier: String, migrate: @Sendable (Database) throws -> Void)] = [
      (
        "v1.calls-and-values",
        { db in
          // One row per cid. `bytes` holds the encoding when it is at most the inline
          // threshold; otherwise it is NULL and the value is a blob file.
          try db.execute(
            sql: """
              CREATE TABLE value (
                cid BLOB PRIMARY KEY NOT NULL,
                size INTEGER NOT NULL,
                bytes BLOB,
                created_at REAL NOT NULL
              );
              CREATE TABLE call (
                id BLOB PRIMARY KEY NOT NULL,
                op TEXT NOT NULL,
                op_version TEXT NOT NULL,
                semantic_version TEXT NOT NULL,
                trial INTEGER NOT NULL,
                output_cid BLOB NOT NULL,
                output_hid BLOB NOT NULL,
                output_size INTEGER NOT NULL,
                started_at REAL NOT NULL,
                duration REAL NOT NULL,
                host TEXT NOT NULL,
                pid INTEGER NOT NULL
              ) WITHOUT ROWID;
              CREATE INDEX call_on_op ON call(op, semantic_version);
              CREATE INDEX call_on_output_cid ON call(output_cid);
              CREATE TABLE call_input (
                call_id BLOB NOT NULL,
                name TEXT NOT NULL,
                cid BLOB NOT NULL,
                hid BLOB NOT NULL,
                PRIMARY KEY (call_id, name)
              ) WITHOUT ROWID;
              CREATE INDEX call_input_on_cid ON call_input(cid);
              """)
        }
      ),
      (
        "v2.code-versions",
        { db in
          // Every op version a process ran, the class of equivalent versions it
          // belongs to (semantic_version), and the code it covers. Components are
          // content-addressed: one row per identity and fingerprint, whatever the
          // number of versions that reach it. Also: history-id indexes for
          // provenance, and tags.
          try db.execute(
            sql: """
              ALTER TABLE call ADD COLUMN key_fields BLOB;
              CREATE INDEX call_on_op_version ON call(op, op_version);
              CREATE INDEX call_on_op_started ON call(op, started_at, output_size);
              CREATE INDEX call_on_output_hid ON call(output_hid);
              CREATE INDEX call_input_on_hid ON call_input(hid);
              CREATE TABLE tag (
                name TEXT PRIMARY KEY NOT NULL,
                call_id BLOB,
                cid BLOB,
                created_at REAL NOT NULL,
                CHECK ((call_id IS NULL) != (cid IS NULL))
              ) WITHOUT ROWID;
              CREATE TABLE op_version (
                op TEXT NOT NULL,
                version TEXT NOT NULL,
                semantic_version TEXT NOT NULL,
                parameters TEXT NOT NULL,
                first_seen REAL NOT NULL,
                last_seen REAL NOT NULL,
                PRIMARY KEY (op, version)
              ) WITHOUT ROWID;
              CREATE TABLE code_component (
                identity TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                source TEXT NOT NULL,
                PRIMARY KEY (identity, fingerprint)
              ) WITHOUT ROWID;
              CREATE TABLE op_version_component (
                op TEXT NOT NULL,
                version TEXT NOT NULL,
                identity TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                PRIMARY KEY (op, version, identity, fingerprint)
              ) WITHOUT ROWID;
              """)
        }
      ),
      (
        "v3.claims",
        { db in
          // A lease on a call being computed; `record` deletes it with the call's row.
          try db.execute(
            sql: """
              CREATE TABLE claim (
                call_id BLOB PRIMARY KEY NOT NULL,
                op TEXT NOT NULL,
                token TEXT NOT NULL,
                host TEXT NOT NULL,
                pid INTEGER NOT NULL,
                claimed_at REAL NOT NULL,
                expires_at REAL NOT NULL
              ) WITHOUT ROWID;
              CREATE INDEX claim_on_token ON claim(token);
              """)
        }
      ),
      (
        "v4.blob-checksum",
        { db in
          // The XXH64 of a blob file, checked on load instead of its content id
          // (much faster: scenario E); NULL for inline values and older files.
          try db.execute(sql: "ALTER TABLE value ADD COLUMN checksum INTEGER")
        }
      ),
      (
        "v5.usage",
        { db in
          // Hits and misses per op and hour (`period`: its start, in seconds since
          // 1970), added to by every process (`addUsage`). The index that answers
          // `ops()` covers the calls' durations too (their sum is the compute time
          // the results stand for), so listing ops reads no call row.
          try db.execute(
            sql: """
              DROP INDEX call_on_op_started;
              CREATE INDEX call_on_op_started ON call(op, started_at, output_size, duration);
              CREATE TABLE usage (
                op TEXT NOT NULL,
                period INTEGER NOT NULL,
                memory_hits INTEGER NOT NULL,
                store_hits INTEGER NOT NULL,
                misses INTEGER NOT NULL,
                time_saved REAL NOT NULL,
                compute_time REAL NOT NULL,
                PRIMARY KEY (period, op)
              ) WITHOUT ROWID;
              """)
        }
      ),
      (
        "v6.blob-stamp",
        { db in
          // The blob file's `BlobStamp` just after this store wrote it: a file
          // that still has it is served without reading it through to check its
          // checksum. NULL for inline values, older files, and files that were
          // already there when the row was added.
          try db.execute(sql: "ALTER TABLE value ADD COLUMN stamp TEXT")
        }
      ),
      (
        "v7.compact",
        { db in
          // Rows by integer id, found by hash through indexes on the hash's first
          // 8 bytes: index entries carry small row ids instead of 32-byte keys,
          // calls and their inputs are appended in the order they are stored
          // rather than scattered by hash, and ops and versions are integers.
          // 1,112 bytes of disk per small call became about half that.
          //
          // - `value.size` NULL: the value's bytes are lost (its blob failed its
          //   check) or were never stored; the row stays while calls name it.
          //   A trigger refuses to delete a row a call or an input names: its id
          //   could be reused, and the call would name another value. (Recall
          //   never does; a process of an older Recall still running during
          //   this migration would, when a blob fails its check.)
          // - `filing`: the (op version, semantic version) a call is filed under.
          // - `call_input.hid` NULL: the input's history id is its cid.
          // - `call.key_fields` in `StoredKeyFields`' form: the old ones are
          //   marked as kept whole (`X'00' ||`; NULL stays NULL).
          // - Hash lookups match the prefix, then the whole hash
          //   (`SQLiteBackend.matches`): the prefix indexes are not unique, and
          //   uniqueness of cids and call ids is kept by the one writer.
          try db.execute(
            sql: """
              CREATE TABLE new_value (
                id INTEGER PRIMARY KEY,
                cid BLOB NOT NULL,
                size INTEGER,
                bytes BLOB,
                checksum INTEGER,
                stamp TEXT
              );
              INSERT INTO new_value (cid, size, bytes, checksum, stamp)
                SELECT cid, size, bytes, checksum, stamp FROM value ORDER BY rowid;
              CREATE UNIQUE INDEX new_value_on_whole_cid ON new_value(cid);
              INSERT OR IGNORE INTO new_value (cid) SELECT output_cid FROM call ORDER BY started_at;
              INSERT OR IGNORE INTO new_value (cid) SELECT cid FROM call_input;

              CREATE TABLE op_name (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE
              );
              INSERT INTO op_name (name) SELECT DISTINCT op FROM call ORDER BY op;
              CREATE TABLE filing (
                id INTEGER PRIMARY KEY,
                op INTEGER NOT NULL,
                op_version TEXT NOT NULL,
                semantic_version TEXT NOT NULL,
                UNIQUE (op, semantic_version, op_version)
              );
              INSERT INTO filing (op, op_version, semantic_version)
                SELECT DISTINCT op_name.id, call.op_version, call.semantic_version
                FROM call JOIN op_name ON op_name.name = call.op;

              CREATE TABLE new_call (
                id INTEGER PRIMARY KEY,
                call_id BLOB NOT NULL,
                op INTEGER NOT NULL,
                filing INTEGER NOT NULL,
                trial INTEGER NOT NULL,
                output INTEGER NOT NULL,
                output_hid BLOB NOT NULL,
                output_size INTEGER NOT NULL,
                started_at REAL NOT NULL,
                duration REAL NOT NULL,
                host TEXT NOT NULL,
                pid INTEGER NOT NULL,
                key_fields BLOB
              );
              INSERT INTO new_call (call_id, op, filing, trial, output, output_hid, output_size, started_at,
                duration, host, pid, key_fields)
                SELECT call.id, op_name.id, filing.id, call.trial, new_value.id, call.output_hid,
                  call.output_size, call.started_at, call.duration, call.host, call.pid,
                  CAST(X'00' || call.key_fields AS BLOB)
                FROM call
                JOIN op_name ON op_name.name = call.op
                JOIN filing ON filing.op = op_name.id AND filing.semantic_version = call.semantic_version
                  AND filing.op_version = call.op_version
                JOIN new_value ON new_value.cid = call.output_cid
                ORDER BY call.started_at, call.id;
              CREATE UNIQUE INDEX new_call_on_whole_id ON new_call(call_id);

              CREATE TABLE new_call_input (
                call INTEGER NOT NULL,
                name TEXT NOT NULL,
                value INTEGER NOT NULL,
                hid BLOB,
                PRIMARY KEY (call, name)
              ) WITHOUT ROWID;
              INSERT INTO new_call_input (call, name, value, hid)
                SELECT new_call.id, call_input.name, new_value.id, nullif(call_input.hid, call_input.cid)
                FROM call_input
                JOIN new_call ON new_call.call_id = call_input.call_id
                JOIN new_value ON new_value.cid = call_input.cid;

              DROP TABLE call_input;
              DROP TABLE call;
              DROP TABLE value;
              DROP INDEX new_value_on_whole_cid;
              DROP INDEX new_call_on_whole_id;
              ALTER TABLE new_value RENAME TO value;
              ALTER TABLE new_call RENAME TO call;
              ALTER TABLE new_call_input RENAME TO call_input;
              CREATE INDEX value_on_cid ON value(substr(cid, 1, 8));
              CREATE INDEX call_on_id ON call(substr(call_id, 1, 8));
              CREATE INDEX call_on_op_started ON call(op, started_at, output_size, duration);
              CREATE INDEX call_on_filing ON call(filing);
              CREATE INDEX call_on_output ON call(output);
              CREATE INDEX call_on_output_hid ON call(substr(output_hid, 1, 8));
              CREATE INDEX call_input_on_value ON call_input(value);
              CREATE INDEX call_input_on_hid ON call_input(substr(hid, 1, 8)) WHERE hid IS NOT NULL;
              CREATE TRIGGER value_named_is_kept BEFORE DELETE ON value
              WHEN EXISTS (SELECT 1 FROM call WHERE output = OLD.id)
                OR EXISTS (SELECT 1 FROM call_input WHERE value = OLD.id)
              BEGIN
                SELECT RAISE(ABORT, 'a call names this value: mark it lost (size NULL) instead');
              END;
              """)
        }
      ),
      (
        "v8.version-locations",
        { db in
          // Where each op last ran (the program: host and executable path) and
          // with which version (`since`: when the process that took it up
          // started using it): each program has its own current version. A
          // store from before keeps its latest version current under the
          // location '' until a program records its own. `accept_count` rises
          // with every accepted change, so running processes notice.
          try db.execute(
            sql: """
              CREATE TABLE op_location (
                op TEXT NOT NULL,
                location TEXT NOT NULL,
                version TEXT NOT NULL,
                since REAL NOT NULL,
                last_seen REAL NOT NULL,
                PRIMARY KEY (op, location)
              ) WITHOUT ROWID;
              INSERT INTO op_location (op, location, version, since, last_seen)
                SELECT op, '', version, max(last_seen), max(last_seen) FROM op_version AS latest
                WHERE version = (SELECT version FROM op_version WHERE op = latest.op
                                 ORDER BY last_seen DESC, first_seen DESC LIMIT 1)
                GROUP BY op;
              CREATE TABLE store_count (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
              INSERT INTO store_count (name, value) VALUES ('accept_count', 0);
              """)
        }
      ),
      (
        "v9.call-checksum",
        { db in
          // The checksum of what a lookup of a call serves (`Checksum.call`:
          // its id, its output's cid and history id), so that a damaged row
          // (say, a flipped byte in `output`, which names another value's row)
          // is recomputed, never served. Inline values get their `checksum`
          // from now on too (blob files had one); older inline values are
          // checked by their content id. Nothing is rewritten here: calls
          // recorded before have no checksum, and only they may lack one
          // (`checked_calls_from`: the first call row that must have one).
          try db.execute(
            sql: """
              ALTER TABLE call ADD COLUMN checksum INTEGER;
              INSERT INTO store_count (name, value)
                SELECT 'checked_calls_from', coalesce(max(id), 0) + 1 FROM call;
              """)
        }
      ),
      (
        "v10.audits",
        { db in
          // Hits run again to check them (`AuditPolicy`): one row per audit,
          // with the stored result's cid and what the run gave (`audited_cid`,
          // NULL with `error` when it threw or could not be encoded).
          try db.execute(
            sql: """
              CREATE TABLE audit (
                id INTEGER PRIMARY KEY,
                call_id BLOB NOT NULL,
                op TEXT NOT NULL,
                op_version TEXT NOT NULL,
                trial INTEGER NOT NULL,
                stored_cid BLOB NOT NULL,
                audited_cid BLOB,
                error TEXT,
                audited_at REAL NOT NULL,
                duration REAL NOT NULL,
                host TEXT NOT NULL,
                pid INTEGER NOT NULL
              );
              CREATE INDEX audit_on_op ON audit (op, audited_at);
              """)
        }
      ),
      (
        "v11.usage-not-stored",
        { db in
          // Results a `StoragePolicy` did not store, and their bytes.
          try db.execute(
            sql: """
              ALTER TABLE usage ADD COLUMN not_stored INTEGER NOT NULL DEFAULT 0;
              ALTER TABLE usage ADD COLUMN not_stored_bytes INTEGER NOT NULL DEFAULT 0;
              """)
        }
      ),
      (
        "v12.evictions",
        { db in
          // When a value's bytes were evicted to keep the store within its
          // disk budget (`size` NULL as for a lost value; storing the value
          // again clears it). The index holds only evicted values, so
          // writes of others never touch it.
          try db.execute(
            sql: """
              ALTER TABLE value ADD COLUMN evicted_at REAL;
              CREATE INDEX value_on_evicted ON value(evicted_at) WHERE evicted_at IS NOT NULL;
              """)
        }
      ),
      (
        "v13.miss-cause",
        { db in
          // Why each call ran rather than being reused (`MissCause.storedCode`),
          // NULL for a seeded result and for calls recorded before.
          try db.execute(sql: "ALTER TABLE call ADD COLUMN miss INTEGER")
        }
      ),
      (
        "v14.environments",
        { db in
          // What calls ran in (`CallEnvironment`), one row per distinct
          // environment: its id (the first 64 bits of its digest) is the
          // rowid, and each call names it (NULL for calls recorded before).
          // Uncommitted changes are kept once per digest. When it was saved
          // keeps a collection from deleting it before the first call that
          // names it commits.
          try db.execute(
            sql: """
              CREATE TABLE environment (
                id INTEGER PRIMARY KEY, body TEXT NOT NULL, changes_digest TEXT,
                saved_at REAL NOT NULL);
              CREATE TABLE environment_changes (
                digest TEXT PRIMARY KEY, changes TEXT NOT NULL) WITHOUT ROWID;
              ALTER TABLE call ADD COLUMN environment INTEGER;
              """)
        }
      ),
      (
        "v15.counts",
        { db in
          // What the store holds, counted as it changes rather than by
          // scanning a million rows when asked (`recall stats`, the
          // viewer's overview): each filing's calls, their output bytes and
          // their summed duration; the values with bytes stored, and those
          // bytes. The writer adds what each transaction inserts, once per
          // filing (`RowFinder.writeCounts`: a trigger per inserted row cost
          // a miss about 20 µs); triggers count every update and delete
          // (re-filing on accept, re-recording, forgetting, evicting, losing
          // or restoring a value, collecting). A call is never replaced
          // (INSERT OR REPLACE would skip the delete trigger).
          try db.execute(
            sql: """
              ALTER TABLE filing ADD COLUMN calls INTEGER NOT NULL DEFAULT 0;
              ALTER TABLE filing ADD COLUMN output_bytes INTEGER NOT NULL DEFAULT 0;
              ALTER TABLE filing ADD COLUMN compute_time REAL NOT NULL DEFAULT 0;
              UPDATE filing SET (calls, output_bytes, compute_time) = (
                SELECT count(*), coalesce(sum(output_size), 0), total(duration)
                FROM call WHERE call.filing = filing.id);
              INSERT INTO store_count (name, value)
                SELECT 'values', count(*) FROM value WHERE size IS NOT NULL;
              INSERT INTO store_count (name, value)
                SELECT 'value_bytes', coalesce(sum(size), 0) FROM value WHERE size IS NOT NULL;
              CREATE TRIGGER call_uncounted AFTER DELETE ON call BEGIN
                UPDATE filing SET calls = calls - 1, output_bytes = output_bytes - OLD.output_size,
                  compute_time = compute_time - OLD.duration WHERE id = OLD.filing;
              END;
              CREATE TRIGGER call_recounted AFTER UPDATE OF filing, output_size, duration ON call
              BEGIN
                UPDATE filing SET calls = calls - 1, output_bytes = output_bytes - OLD.output_size,
                  compute_time = compute_time - OLD.duration WHERE id = OLD.filing;
                UPDATE filing SET calls = calls + 1, output_bytes = output_bytes + NEW.output_size,
                  compute_time = compute_time + NEW.duration WHERE id = NEW.filing;
              END;
              CREATE TRIGGER value_uncounted AFTER DELETE ON value WHEN OLD.size IS NOT NULL BEGIN
                UPDATE store_count SET value = value - CASE name WHEN 'values' THEN 1 ELSE OLD.size END
                  WHERE name IN ('values', 'value_bytes');
              END;
              CREATE TRIGGER value_recounted AFTER UPDATE OF size ON value
              WHEN OLD.size IS NOT NEW.size BEGIN
                UPDATE store_count SET value = value + CASE name
                    WHEN 'values' THEN (NEW.size IS NOT NULL) - (OLD.size IS NOT NULL)
                    ELSE coalesce(NEW.size, 0) - coalesce(OLD.size, 0) END
                  WHERE name IN ('values', 'value_bytes');
              END;
              """)
        }
      ),
      (
        "v16.value-parts",
        { db in
          // The outputs of a result of several outputs (`MultipleOutputs`):
          // the value stored by parts (its manifest), each output's label,
          // and the value it is. A value kept keeps its parts; a part is
          // found from its whole for provenance.
          try db.execute(
            sql: """
              CREATE TABLE value_part (
                value INTEGER NOT NULL,
                label TEXT NOT NULL,
                part INTEGER NOT NULL,
                PRIMARY KEY (value, label)
              ) WITHOUT ROWID;
              CREATE INDEX value_part_on_part ON value_part(part);
              """)
        }
      ),
    ]

  /// Brings the schema up to date, refusing a store from a newer Recall. A
  /// read-only store is checked, not migrated.
  func migrate(readOnly: Bool) throws {
    let known = SQLiteBackend.migrationIdentifiers
    // Through a lookup connection, which the open needs anyway: a GRDB
    // reader would be one more connection to open in a fresh process
    // (scenario C). Not through the pool's writer: it caches the schema as if no
    // other process changed it.
    let applied: Set<String> = try lookups.withConnection { connection in
      let migrated = try FastStatement.run(
        connection, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'grdb_migrations'",
        []
      ) { try $0.step() }
      guard migrated else { return [] }
      return try FastStatement.run(connection, "SELECT identifier FROM grdb_migrations", []) {
        row in
        var identifiers: Set<String> = []
        while try row.step() { identifiers.insert(row.text(0) ?? "") }
        return identifiers
      }
    }
    let unknown = applied.subtracting(known)
    let isCurrent = applied.count == known.count && unknown.isEmpty
    guard unknown.isEmpty else {
      // A newer Recall applied every migration this one knows, and more, in
      // a database SQLite finds intact.
      let problems = try lookups.withConnection { connection in
        try FastStatement.run(connection, "PRAGMA quick_check(3)", []) { row in
          var problems: [String] = []
          while try row.step() { problems.append(row.text(0) ?? "") }
          return problems == ["ok"] ? [] : problems
        }
      }
      guard applied.isSuperset(of: known), problems.isEmpty else {
        throw RecallError.storeDamaged(
          path: path, file: path + "/recall.sqlite",
          detail: "its record of schema migrations is damaged: it names "
            + unknown.sorted().joined(separator: ", ")
            + (problems.isEmpty ? "" : "; SQLite's check finds " + problems.joined(separator: "; "))
        )
      }
      throw RecallError.storeFromNewerVersion(path: path, unknownMigrations: unknown.sorted())
    }
    guard !isCurrent else { return }
    guard !readOnly else {
      throw RecallError.storeUnavailable(
        path: path,
        detail: "it was written by an older version of Recall; open it once for writing (run any "
          + "program that uses it) to upgrade its schema, then try again")
    }
    // Processes that open a new store at once would each see it unmigrated and
    // run the same migration: one at a time, each re-reading what is applied.
    // The pool is opened before the lock, as its opening takes the lock too.
    let pool = try self.pool
    try Self.withLock(path + "/migrate.lock", path: path) {
      do {
        try SQLiteBackend.migrator.migrate(pool)
      } catch let error as DatabaseError
        where !applied.isEmpty
        && (error.message?.contains("already exists") == true
          || error.message?.contains("duplicate column name") == true)
      {
        // A migration the record says is not applied made its tables: the
        // record was damaged.
        throw RecallError.storeDamaged(
          path: path, file: path + "/recall.sqlite",
          detail: "its record of schema migrations does not match its tables ("
            + (error.message ?? "") + ")")
      }
    }
  }

  /// Runs `body` holding an exclusive lock on a file (created if needed),
  /// across processes.
  static func withLock<T>(_ lockPath: String, path: String, _ body: () throws -> T) throws -> T {
    let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
      throw RecallError.storeUnavailable(
        path: path, detail: "could not open \(lockPath): \(String(cString: strerror(errno)))")
    }
    defer { close(descriptor) }
    while flock(descriptor, LOCK_EX) != 0 {
      guard errno == EINTR else {
        throw RecallError.storeUnavailable(
          path: path, detail: "could not lock \(lockPath): \(String(cString: strerror(errno)))")
      }
    }
    defer { flock(descriptor, LOCK_UN) }
    return try body()
  }
}
