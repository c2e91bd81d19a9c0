import Foundation
import PostgresNIO
import RecallCore

extension PostgresBackend {
  /// The schema's named migrations. Append only: never edit or reorder one that
  /// has shipped; add a new one. Each is named as the SQLite store's migration
  /// that makes the same change (``SQLiteBackend``'s `v1.calls-and-values`
  /// … `v8.version-locations`); the first brings the schema to where SQLite's
  /// `v3.claims` does, in one step, and SQLite's `v6.blob-stamp` and
  /// `v7.compact` have no counterpart here.
  static let migrations: [(identifier: String, sql: String)] = [
    (
      "v3.claims",
      """
      CREATE TABLE value (
        cid bytea PRIMARY KEY,
        size bigint NOT NULL,
        bytes bytea NOT NULL,
        created_at double precision NOT NULL
      );
      CREATE TABLE call (
        id bytea PRIMARY KEY,
        op text NOT NULL,
        op_version text NOT NULL,
        semantic_version text NOT NULL,
        trial bigint NOT NULL,
        output_cid bytea NOT NULL,
        output_hid bytea NOT NULL,
        output_size bigint NOT NULL,
        started_at double precision NOT NULL,
        duration double precision NOT NULL,
        host text NOT NULL,
        pid bigint NOT NULL,
        key_fields bytea
      );
      CREATE INDEX call_on_op ON call (op, semantic_version);
      CREATE INDEX call_on_op_version ON call (op, op_version);
      CREATE INDEX call_on_op_started ON call (op, started_at);
      CREATE INDEX call_on_output_cid ON call (output_cid);
      CREATE INDEX call_on_output_hid ON call (output_hid);
      CREATE TABLE call_input (
        call_id bytea NOT NULL,
        name text NOT NULL,
        cid bytea NOT NULL,
        hid bytea NOT NULL,
        PRIMARY KEY (call_id, name)
      );
      CREATE INDEX call_input_on_cid ON call_input (cid);
      CREATE INDEX call_input_on_hid ON call_input (hid);
      CREATE TABLE tag (
        name text PRIMARY KEY,
        call_id bytea,
        cid bytea,
        created_at double precision NOT NULL,
        CHECK ((call_id IS NULL) <> (cid IS NULL))
      );
      CREATE TABLE op_version (
        op text NOT NULL,
        version text NOT NULL,
        semantic_version text NOT NULL,
        parameters text NOT NULL,
        first_seen double precision NOT NULL,
        last_seen double precision NOT NULL,
        PRIMARY KEY (op, version)
      );
      CREATE TABLE code_component (
        identity text NOT NULL,
        fingerprint text NOT NULL,
        source text NOT NULL,
        PRIMARY KEY (identity, fingerprint)
      );
      CREATE TABLE op_version_component (
        op text NOT NULL,
        version text NOT NULL,
        identity text NOT NULL,
        fingerprint text NOT NULL,
        PRIMARY KEY (op, version, identity, fingerprint)
      );
      CREATE TABLE claim (
        call_id bytea PRIMARY KEY,
        op text NOT NULL,
        token text NOT NULL,
        host text NOT NULL,
        pid bigint NOT NULL,
        claimed_at double precision NOT NULL,
        expires_at double precision NOT NULL
      );
      CREATE INDEX claim_on_token ON claim (token);
      """
    ),
    (
      // A value kept in the shared blob directory has no bytes in its row, and
      // its file's XXH64, checked on load.
      "v4.blob-checksum",
      """
      ALTER TABLE value ALTER COLUMN bytes DROP NOT NULL;
      ALTER TABLE value ADD COLUMN checksum bigint;
      CREATE TABLE setting (
        name text PRIMARY KEY,
        value text NOT NULL
      );
      """
    ),
    (
      // Hits and misses per op and hour (`period`: its start, in seconds since
      // 1970), added to by every process (`addUsage`).
      "v5.usage",
      """
      CREATE TABLE usage (
        op text NOT NULL,
        period bigint NOT NULL,
        memory_hits bigint NOT NULL,
        store_hits bigint NOT NULL,
        misses bigint NOT NULL,
        time_saved double precision NOT NULL,
        compute_time double precision NOT NULL,
        PRIMARY KEY (period, op)
      );
      """
    ),
    (
      // Where each op last ran (the program: host and executable path) and
      // with which version (`since`: when the process that took it up started
      // using it): each program has its own current version. A store
      // from before keeps its latest version current under the location ''
      // until a program records its own. `accept_count` rises with every
      // accepted change, so running processes notice.
      "v8.version-locations",
      """
      CREATE TABLE op_location (
        op text NOT NULL,
        location text NOT NULL,
        version text NOT NULL,
        since double precision NOT NULL,
        last_seen double precision NOT NULL,
        PRIMARY KEY (op, location)
      );
      INSERT INTO op_location (op, location, version, since, last_seen)
        SELECT DISTINCT ON (op) op, '', version, last_seen, last_seen FROM op_version
        ORDER BY op, last_seen DESC, first_seen DESC;
      INSERT INTO setting (name, value) VALUES ('accept_count', '0')
      """
    ),
    (
      // Hits run again to check them (`AuditPolicy`): one row per audit, with
      // the stored result's cid and what the run gave (`audited_cid`, NULL with
      // `error` when it threw or could not be encoded).
      "v10.audits",
      """
      CREATE TABLE audit (
        id bigserial PRIMARY KEY,
        call_id bytea NOT NULL,
        op text NOT NULL,
        op_version text NOT NULL,
        trial bigint NOT NULL,
        stored_cid bytea NOT NULL,
        audited_cid bytea,
        error text,
        audited_at double precision NOT NULL,
        duration double precision NOT NULL,
        host text NOT NULL,
        pid bigint NOT NULL
      );
      CREATE INDEX audit_on_op ON audit (op, audited_at);
      """
    ),
    // Results a `StoragePolicy` did not store, and their bytes.
    (
      "v11.usage-not-stored",
      """
      ALTER TABLE usage ADD COLUMN not_stored bigint NOT NULL DEFAULT 0;
      ALTER TABLE usage ADD COLUMN not_stored_bytes bigint NOT NULL DEFAULT 0;
      """
    ),
    (
      // Values whose bytes were evicted to keep the store within its disk
      // budget: their rows are deleted (the calls naming them become misses)
      // and recorded here. A value stored again has its row back, which
      // outranks this record; garbage collection drops such records.
      "v12.evictions",
      """
      CREATE TABLE evicted_value (
        cid bytea PRIMARY KEY,
        evicted_at double precision NOT NULL
      );
      """
    ),
    (
      // Why each call ran rather than being reused (`MissCause.storedCode`),
      // NULL for a seeded result and for calls recorded before.
      "v13.miss-cause",
      "ALTER TABLE call ADD COLUMN miss smallint"
    ),
    (
      // What calls ran in (`CallEnvironment`), one row per distinct
      // environment, by its id (the first 64 bits of its digest); each call
      // names it (NULL for calls recorded before). Uncommitted changes are
      // kept once per digest. When it was saved keeps a collection from
      // deleting it before the first call that names it commits.
      "v14.environments",
      """
      CREATE TABLE environment (
        id bigint PRIMARY KEY, body text NOT NULL, changes_digest text,
        saved_at double precision NOT NULL
      );
      CREATE TABLE environment_changes (digest text PRIMARY KEY, changes text NOT NULL);
      ALTER TABLE call ADD COLUMN environment bigint;
      """
    ),
    (
      // The outputs of a result of several outputs (`MultipleOutputs`): the
      // value stored by parts (its manifest), each output's label, and the
      // value it is. A value kept keeps its parts; a part is found from its
      // whole for provenance. (SQLite's v15 has no PostgreSQL counterpart.)
      "v16.value-parts",
      """
      CREATE TABLE value_part (
        value bytea NOT NULL, label text NOT NULL, part bytea NOT NULL,
        PRIMARY KEY (value, label)
      );
      CREATE INDEX value_part_on_part ON value_part (part);
      """
    ),
  ]

  /// The names migrations had before they took the SQLite store's names. A
  /// store migrated then keeps its records (so that older Recalls sharing it
  /// still open it); they count as the migrations of the new names.
  static let formerIdentifiers = [
    "v1.store": "v3.claims", "v2.blob-directory": "v4.blob-checksum", "v3.usage": "v5.usage",
    "v4.version-locations": "v8.version-locations",
  ]

  /// Refuses a database without the store (``Configuration/createsStore``
  /// off): its schema has no table of Recall's migrations. Runs before the
  /// backend is whole, so that a refused opening creates nothing.
  static func requireStore(
    _ connections: ConnectionPool, schema: String, location: String
  ) throws {
    let exists: Bool
    do {
      exists = try connections.with { connection in
        try connection.rows(
          "SELECT to_regclass($1) IS NOT NULL",
          [.text(ConnectionPool.quoted(schema) + ".recall_migration")]
        ).first?.bool(0) ?? false
      }
    } catch let error as RecallError {
      throw error
    } catch {
      throw RecallError.storeUnavailable(path: location, detail: describe(error))
    }
    guard exists else {
      throw RecallError.notFound(
        "tables (schema '\(schema)' has no recall_migration table)", path: location,
        hint: "Check the URL and its schema= (or RECALL_STORE); a store is created by the first "
          + "program that memoizes into it.")
    }
  }

  /// Creates the schema and brings it up to date, one process at a time (an
  /// advisory lock), refusing a store from a newer Recall.
  func migrate() throws {
    let schema = ConnectionPool.quoted(configuration.schema)
    try transaction { connection in
      try connection.execute(
        "SELECT pg_advisory_xact_lock(hashtext($1))",
        [.text("recall.migrate." + configuration.schema)])
      try connection.run(
        """
        CREATE SCHEMA IF NOT EXISTS \(schema);
        CREATE TABLE IF NOT EXISTS \(schema).recall_migration (
          identifier text PRIMARY KEY,
          applied_at double precision NOT NULL
        );
        """)
      let applied = Set(
        try connection.rows("SELECT identifier FROM \(schema).recall_migration").map {
          let identifier = try $0.text(0)
          return Self.formerIdentifiers[identifier] ?? identifier
        })
      let known = Set(Self.migrations.map(\.identifier))
      let unknown = applied.subtracting(known)
      guard unknown.isEmpty else {
        throw RecallError.storeFromNewerVersion(path: location, unknownMigrations: unknown.sorted())
      }
      for migration in Self.migrations where !applied.contains(migration.identifier) {
        try connection.run(migration.sql)
        try connection.execute(
          "INSERT INTO \(schema).recall_migration (identifier, applied_at) VALUES ($1, $2)",
          [.text(migration.identifier), SQLValue(Date())])
      }
    }
  }
}
