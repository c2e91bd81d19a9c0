import Foundation
import GRDB
import RecallCore

extension SQLiteBackend {
  public var isShared: Bool { !configuration.readOnly }

  public func claim(
    _ id: CallID, of op: OpID, by claimant: Claimant, at now: Date, until expiry: Date,
    replacing dead: Claimant?
  ) throws -> ClaimOutcome {
    // A call this backend is committing is stored, as far as claims go.
    if committer.result(of: id) != nil { return .stored }
    return try SQLiteBackend.mapErrors(path: path) {
      // Waiting processes look every few milliseconds: answer them from a
      // reader while the claim is held, and take the write lock only to claim.
      let seen = try database.read { db in
        try claimState(of: id, for: claimant, at: now, replacing: dead, db)
      }
      if let seen { return seen }
      return try database.writeWithoutTransaction { db in
        // A claim need not survive a power loss (its holder would not either):
        // skip the fsync a durable commit costs.
        try db.execute(sql: "PRAGMA synchronous = OFF")
        defer { try? db.execute(sql: "PRAGMA synchronous = FULL") }
        var outcome = ClaimOutcome.acquired
        try db.inTransaction(.immediate) {
          if let seen = try claimState(of: id, for: claimant, at: now, replacing: dead, db) {
            outcome = seen
            return .commit
          }
          try db.cachedStatement(
            sql: """
              INSERT OR REPLACE INTO claim (call_id, op, token, host, pid, claimed_at, expires_at)
              VALUES (?, ?, ?, ?, ?, ?, ?)
              """
          ).execute(arguments: [
            id.digest.data, op.name, claimant.token, claimant.host, claimant.pid,
            now.timeIntervalSince1970, expiry.timeIntervalSince1970,
          ])
          return .commit
        }
        return outcome
      }
    }
  }

  /// Whether the call is stored or held by another claimant's live lease
  /// (`nil`: it can be claimed).
  private func claimState(
    of id: CallID, for claimant: Claimant, at now: Date, replacing dead: Claimant?, _ db: Database
  ) throws -> ClaimOutcome? {
    let stored =
      try Bool.fetchOne(
        db.cachedStatement(
          sql: """
            SELECT EXISTS (SELECT 1 FROM call JOIN value ON value.id = call.output
              WHERE \(Self.matches("call.call_id")) AND value.size IS NOT NULL)
            """),
        arguments: [id.digest.data, id.digest.data]) ?? false
    if stored { return .stored }
    guard
      let row = try Row.fetchOne(
        db.cachedStatement(
          sql: "SELECT op, token, host, pid, claimed_at, expires_at FROM claim WHERE call_id = ?"),
        arguments: [id.digest.data])
    else { return nil }
    let claim = Self.claim(id, row)
    return claim.isLive(against: claimant, at: now, replacing: dead) ? .held(claim) : nil
  }

  private static func claim(_ id: CallID, _ row: Row) -> Claim {
    Claim(
      call: id, op: OpID(row["op"] as String),
      claimant: Claimant(token: row["token"], host: row["host"], pid: row["pid"]),
      claimedAt: Date(timeIntervalSince1970: row["claimed_at"]),
      expiresAt: Date(timeIntervalSince1970: row["expires_at"]))
  }

  public func renewClaims(by claimant: Claimant, until expiry: Date) throws -> Int {
    try SQLiteBackend.mapErrors(path: path) {
      try database.write { db in
        try db.execute(
          sql: "UPDATE claim SET expires_at = ? WHERE token = ?",
          arguments: [expiry.timeIntervalSince1970, claimant.token])
        return db.changesCount
      }
    }
  }

  public func releaseClaim(_ id: CallID, by claimant: Claimant) throws {
    try SQLiteBackend.mapErrors(path: path) {
      try database.write { db in
        try db.execute(
          sql: "DELETE FROM claim WHERE call_id = ? AND token = ?",
          arguments: [id.digest.data, claimant.token])
      }
    }
  }

  public func claims(at now: Date) throws -> [Claim] {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.read { db in
        try Row.fetchAll(
          db,
          sql: """
            SELECT call_id, op, token, host, pid, claimed_at, expires_at FROM claim
            WHERE expires_at > ? ORDER BY claimed_at
            """,
          arguments: [now.timeIntervalSince1970]
        ).map { row in Self.claim(CallID(try Self.digest(row["call_id"])), row) }
      }
    }
  }
}
