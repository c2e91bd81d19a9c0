import Foundation
import GRDB
import RecallCore

extension SQLiteBackend {
  public func saveEnvironment(_ environment: CallEnvironment, changes: String?) throws {
    let id = environment.id.storedValue
    // On a lookup connection, as claims and versions: a process's first
    // computed call does not open GRDB's pool on the calling thread
    // (decision 0124).
    try SQLiteBackend.mapErrors(path: path) {
      try lookups.withConnection { connection in
        // The common case, an environment saved within the hour with its
        // changes (a build that omitted them has the same id), only reads.
        let now = Date().timeIntervalSince1970
        let saved = try FastStatement.run(
          connection,
          """
          SELECT environment.saved_at,
            EXISTS (SELECT 1 FROM environment_changes WHERE digest = environment.changes_digest)
          FROM environment WHERE id = ?
          """, [.int(id)]
        ) { row in try row.step() ? (savedAt: row.double(0), hasChanges: row.int64(1) != 0) : nil }
        if let saved, now - saved.savedAt < 3600,
          saved.hasChanges || environment.changesDigest == nil || changes == nil
        {
          return
        }
        try connection.writeTransaction {
          if let digest = environment.changesDigest, let changes {
            try FastStatement.run(
              connection,
              "INSERT OR IGNORE INTO environment_changes (digest, changes) VALUES (?, ?)",
              [.text(digest), .text(changes)]
            ) { try $0.execute() }
          }
          try FastStatement.run(
            connection,
            """
            INSERT INTO environment (id, body, changes_digest, saved_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET saved_at = max(saved_at, excluded.saved_at)
            """,
            [.int(id), .text(environment.body), .text(environment.changesDigest), .double(now)]
          ) { try $0.execute() }
        }
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
