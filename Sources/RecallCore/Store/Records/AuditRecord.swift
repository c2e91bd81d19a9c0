import Foundation

/// One audit of a stored result: a hit whose call was run again with the
/// current code, and what that run gave (``AuditPolicy``).
public struct AuditRecord: Sendable, Hashable {
  /// The call whose stored result was audited.
  public var call: CallID
  /// Its op.
  public var op: OpID
  /// The op version that ran the audit (the current code).
  public var opVersion: CodeFingerprint
  /// The call's trial.
  public var trial: Int
  /// The content id of the stored result.
  public var storedCID: ContentID
  /// The content id of what the audit computed; `nil` when its body threw or
  /// its result could not be encoded (``error`` says which).
  public var auditedCID: ContentID?
  /// Why the audit computed nothing, when ``auditedCID`` is `nil`.
  public var error: String?
  /// When the audit ran.
  public var auditedAt: Date
  /// How long the audit's run took, in seconds.
  public var duration: Double
  /// The host that ran it.
  public var host: String
  /// The process id that ran it.
  public var pid: Int

  /// Creates an audit record.
  public init(
    call: CallID, op: OpID, opVersion: CodeFingerprint, trial: Int, storedCID: ContentID,
    auditedCID: ContentID?, error: String?, auditedAt: Date, duration: Double, host: String,
    pid: Int
  ) {
    self.call = call
    self.op = op
    self.opVersion = opVersion
    self.trial = trial
    self.storedCID = storedCID
    self.auditedCID = auditedCID
    self.error = error
    self.auditedAt = auditedAt
    self.duration = duration
    self.host = host
    self.pid = pid
  }

  /// Whether the run gave something other than the stored result.
  public var differs: Bool { auditedCID != storedCID }
}

/// The audits of one op (``Store/auditSummaries(of:)``).
public struct AuditSummary: Sendable, Hashable {
  /// The op.
  public var op: OpID
  /// How many of its hits were audited.
  public var checked: Int
  /// The audits that gave something other than the stored result, most
  /// recent first.
  public var differing: [AuditRecord]
  /// When the latest audit ran.
  public var lastAudit: Date

  /// Whether every audit gave the stored result.
  public var isClean: Bool { differing.isEmpty }
}
