import Foundation
import GRDB
import RecallCore

extension SQLiteBackend {
  public func recordAudit(_ audit: AuditRecord) throws {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.write { db in
        try db.execute(
          sql: """
            INSERT INTO audit (call_id, op, op_version, trial, stored_cid, audited_cid, error,
              audited_at, duration, host, pid)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
          arguments: [
            audit.call.digest.data, audit.op.name, audit.opVersion.hex, audit.trial,
            audit.storedCID.digest.data, audit.auditedCID?.digest.data, audit.error,
            audit.auditedAt.timeIntervalSince1970, audit.duration, audit.host, audit.pid,
          ])
      }
    }
  }

  public func audits(of op: OpID?) throws -> [AuditRecord] {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.read { db in
        try Row.fetchAll(
          db,
          sql: """
            SELECT call_id, op, op_version, trial, stored_cid, audited_cid, error, audited_at,
              duration, host, pid
            FROM audit \(op == nil ? "" : "WHERE op = ?") ORDER BY audited_at DESC, id DESC
            """,
          arguments: StatementArguments(op.map { [$0.name] } ?? [])
        ).map { row in
          let audited: Data? = try row.decode(atIndex: 5)
          return AuditRecord(
            call: CallID(try Self.digest(row, 0)), op: OpID(try row.decode(atIndex: 1)),
            opVersion: CodeFingerprint(hex: try row.decode(atIndex: 2)),
            trial: try row.decode(atIndex: 3), storedCID: ContentID(try Self.digest(row, 4)),
            auditedCID: try audited.map { ContentID(try Self.digest($0)) },
            error: try row.decode(atIndex: 6),
            auditedAt: Date(timeIntervalSince1970: try row.decode(atIndex: 7)),
            duration: try row.decode(atIndex: 8), host: try row.decode(atIndex: 9),
            pid: try row.decode(atIndex: 10))
        }
      }
    }
  }
}
