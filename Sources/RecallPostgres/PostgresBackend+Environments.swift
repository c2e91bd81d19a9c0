import Foundation
import RecallCore

extension PostgresBackend {
  public func saveEnvironment(_ environment: CallEnvironment, changes: String?) throws {
    let id = SQLValue.int(Int(environment.id.storedValue))
    let now = Date().timeIntervalSince1970
    // The common case, an environment saved within the hour with its
    // changes, only reads.
    let saved = try withConnection { connection in
      try connection.rows(
        """
        SELECT environment.saved_at,
          EXISTS (SELECT 1 FROM environment_changes WHERE digest = environment.changes_digest)
        FROM environment WHERE id = $1
        """, [id]
      ).first.map { (try $0.double(0), try $0.bool(1)) }
    }
    if let (savedAt, hasChanges) = saved, now - savedAt < 3600,
      hasChanges || environment.changesDigest == nil || changes == nil
    {
      return
    }
    try transaction { connection in
      if let digest = environment.changesDigest, let changes {
        try connection.execute(
          """
          INSERT INTO environment_changes (digest, changes) VALUES ($1, $2)
          ON CONFLICT (digest) DO NOTHING
          """, [.text(digest), .text(changes)])
      }
      try connection.execute(
        """
        INSERT INTO environment (id, body, changes_digest, saved_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (id) DO UPDATE SET saved_at = greatest(environment.saved_at, EXCLUDED.saved_at)
        """,
        [
          id, .text(environment.body), environment.changesDigest.map(SQLValue.text) ?? .null,
          .double(now),
        ])
    }
  }

  /// Deletes the environments no call names that were last saved a day
  /// before `date` (or now, if earlier: a date in the future must not take
  /// a running process's environment), and the changes no environment names;
  /// returns how many environments.
  static func collectEnvironments(before date: Date, _ connection: Connection) throws -> Int {
    // An anti-join: one scan of the calls.
    let deleted = try connection.execute(
      """
      DELETE FROM environment WHERE saved_at < $1
        AND NOT EXISTS (SELECT 1 FROM call WHERE call.environment = environment.id)
      """, [.double(min(date, Date()).timeIntervalSince1970 - 86_400)])
    try connection.execute(
      """
      DELETE FROM environment_changes WHERE NOT EXISTS (
        SELECT 1 FROM environment WHERE environment.changes_digest = environment_changes.digest)
      """)
    return deleted
  }

  public func environment(_ id: EnvironmentID) throws -> CallEnvironment? {
    try withConnection { connection in
      try connection.rows(
        "SELECT body FROM environment WHERE id = $1",
        [.int(Int(id.storedValue))]
      ).first?.text(0)
    }.flatMap(CallEnvironment.init(body:))
  }

  public func uncommittedChanges(digest: String) throws -> String? {
    try withConnection { connection in
      try connection.rows(
        "SELECT changes FROM environment_changes WHERE digest = $1", [.text(digest)]
      ).first?.text(0)
    }
  }
}
