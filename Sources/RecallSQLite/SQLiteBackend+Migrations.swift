import GRDB
import RecallCore

extension SQLiteBackend {
  /// The schema's named migrations. Append only: never edit or reorder one that
  /// has shipped; add a new one.
  static var migrator: DatabaseMigrator {
    var migrator = DatabaseMigrator()
    migrator.registerMigration("v1.calls-and-values") { db in
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
    return migrator
  }

  /// Brings the schema up to date, refusing a store from a newer Recall.
  func migrate() throws {
    let migrator = SQLiteBackend.migrator
    let (unknown, isCurrent) = try pool.read { db in
      let applied = try migrator.appliedIdentifiers(db)
      return (applied.subtracting(migrator.migrations), applied.count == migrator.migrations.count)
    }
    guard unknown.isEmpty else {
      throw RecallError.storeFromNewerVersion(path: path, unknownMigrations: unknown.sorted())
    }
    if !isCurrent { try migrator.migrate(pool) }
  }
}
