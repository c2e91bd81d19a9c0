import Foundation
import RecallCore

extension PostgresBackend {
  public func recordAudit(_ audit: AuditRecord) throws {
    try withConnection { connection in
      try connection.execute(
        """
        INSERT INTO audit (call_id, op, op_version, trial, stored_cid, audited_cid, error,
          audited_at, duration, host, pid)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        """,
        [
          SQLValue(audit.call.digest), .text(audit.op.name), .text(audit.opVersion.hex),
          .int(audit.trial), SQLValue(audit.storedCID.digest),
          audit.auditedCID.map { SQLValue($0.digest) } ?? .null,
          audit.error.map { .text($0) } ?? .null, SQLValue(audit.auditedAt),
          .double(audit.duration), .text(audit.host), .int(audit.pid),
        ])
    }
  }

  public func audits(of op: OpID?) throws -> [AuditRecord] {
    try withConnection { connection in
      try connection.rows(
        """
        SELECT call_id, op, op_version, trial, stored_cid, audited_cid, error, audited_at,
          duration, host, pid
        FROM audit \(op == nil ? "" : "WHERE op = $1") ORDER BY audited_at DESC, id DESC
        """, op.map { [.text($0.name)] } ?? []
      ).map { row in
        AuditRecord(
          call: CallID(try row.digest(0)), op: OpID(try row.text(1)),
          opVersion: CodeFingerprint(hex: try row.text(2)), trial: try row.int(3),
          storedCID: ContentID(try row.digest(4)),
          auditedCID: try row.bytes(5) == nil ? nil : ContentID(try row.digest(5)),
          error: try row[6].decode(String?.self), auditedAt: try row.date(7),
          duration: try row.double(8), host: try row.text(9), pid: try row.int(10))
      }
    }
  }
}
