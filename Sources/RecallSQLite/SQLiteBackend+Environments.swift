import Foundation
import GRDB
import RecallCore

extension SQLiteBackend {
  public func saveEnvironment(_ environment: CallEnvironment, changes: String?) throws {
    let id = environment.id.storedValue
    try SQLiteBackend.mapErrors(path: path) {
      // The common case, an environment saved within the hour with its
      // changes (a build that omitted them has the same id), only reads.
      let now = Date().timeIntervalSince1970
      let saved = try pool.read { db in
        try Row.fetchOne(
          db,
          sql: """
            SELECT environment.saved_at,
              EXISTS (SELECT 1 FROM environment_changes WHERE digest = environment.changes_digest)
            FROM environment WHERE id = ?
            """, arguments: [id])
      }
      if let saved, now - (try saved.decode(Double.self, atIndex: 0)) < 3600,
        try saved.decode(Bool.self, atIndex: 1) || environment.changesDigest == nil
          || changes == nil
      {
        return
      }
      try pool.write { db in
        if let digest = environment.changesDigest, let changes {
          try db.execute(
            sql: "INSERT OR IGNORE INTO environment_changes (digest, changes) VALUES (?, ?)",
            arguments: [digest, changes])
        }
        try db.execute(
          sql: """
            INSERT INTO environment (id, body, changes_digest, saved_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET saved_at = max(saved_at, excluded.saved_at)
            """,
          arguments: [id, environment.body, environment.changesDigest, now])
      }
    }
  }

  /// Deletes the environments no call names that were last saved a day
  /// before `date` (or now, if earlier: a date in the future must not take
  /// a running process's environment), and the changes no environment names;
  /// returns how many environments.
  static func collectEnvironments(before date: Date, _ db: Database) throws -> Int {
    // One scan of the calls, not one per environment.
    try db.execute(
      sql: """
        DELETE FROM environment WHERE saved_at < ?
          AND id NOT IN (SELECT environment FROM call WHERE environment IS NOT NULL)
        """, arguments: [min(date, Date()).timeIntervalSince1970 - 86_400])
    let deleted = db.changesCount
    try db.execute(
      sql: """
        DELETE FROM environment_changes WHERE digest NOT IN (
          SELECT changes_digest FROM environment WHERE changes_digest IS NOT NULL)
        """)
    return deleted
  }

  public func environment(_ id: EnvironmentID) throws -> CallEnvironment? {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.read { db in
        try String.fetchOne(
          db, sql: "SELECT body FROM environment WHERE id = ?",
          arguments: [id.storedValue])
      }
    }.flatMap(CallEnvironment.init(body:))
  }

  public func uncommittedChanges(digest: String) throws -> String? {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.read { db in
        try String.fetchOne(
          db, sql: "SELECT changes FROM environment_changes WHERE digest = ?", arguments: [digest])
      }
    }
  }
}
