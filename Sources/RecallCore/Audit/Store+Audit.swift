import Foundation

extension Store {
  /// An audit in progress: the hit's body runs again in `scope`.
  struct Audit {
    /// The call's stack and stream (so a random call draws what it drew),
    /// in its trial.
    let scope: TaskScope
    /// The stored result's content id.
    let stored: ContentID
    let started: Date
    let clock: ContinuousClock.Instant
    let inputs: [CallInput]
    let keyFields: [UInt8]
  }

  /// Returns a hit's value, after auditing it when the policy draws it:
  /// `body` runs again and what it gives is recorded next to the stored
  /// result. The value returned is the stored one, or the new one when it
  /// differs and ``AuditPolicy/replacesDifferingResults``.
  func audited<R: Codable & Sendable, E: Error>(
    _ call: PreparedCall, _ value: R, _ body: () throws(E) -> R
  ) -> R {
    // The audit apart: its generic locals would cost every hit the runtime's
    // lookups of their types.
    shouldAudit() ? audit(call, value, body) : value
  }

  /// Audits a hit the policy drew: runs `body` and compares (or returns
  /// `value` when the hit cannot be audited).
  @inline(never)
  private func audit<R: Codable & Sendable, E: Error>(
    _ call: PreparedCall, _ value: R, _ body: () throws(E) -> R
  ) -> R {
    guard let audit = willAudit(call) else { return value }
    return didAudit(call, audit, audit.scope.run(body)) ?? value
  }

  /// Returns a hit's value, after auditing it when the policy draws it (see
  /// ``audited(_:_:_:)``).
  func audited<R: Codable & Sendable, E: Error>(
    isolation: isolated (any Actor)?, _ call: PreparedCall, _ value: R,
    _ body: () async throws(E) -> R
  ) async -> R {
    shouldAudit() ? await audit(isolation: isolation, call, value, body) : value
  }

  /// The asynchronous ``audit(_:_:_:)``.
  @inline(never)
  private func audit<R: Codable & Sendable, E: Error>(
    isolation: isolated (any Actor)?, _ call: PreparedCall, _ value: R,
    _ body: () async throws(E) -> R
  ) async -> R {
    guard let audit = willAudit(call) else { return value }
    return didAudit(call, audit, await audit.scope.run(isolation: isolation, body)) ?? value
  }

  /// Whether this hit is audited: a draw against ``AuditPolicy/fraction``,
  /// outside any audit (an audit's own hits are not audited again).
  private func shouldAudit() -> Bool {
    let fraction = configuration.audit.fraction
    guard fraction > 0 && (fraction >= 1 || Double.random(in: 0..<1) < fraction) else {
      return false
    }
    // Nor in a reuse-only scope, where no body runs.
    let scope = TaskScope.current
    return !scope.isAuditing && !scope.reusesOnly
  }

  /// Starts auditing a hit, or returns `nil` when it cannot be: the stored
  /// result's content id cannot be read, or another body of the same call
  /// runs in this process (an audit of it in another task).
  private func willAudit(_ call: PreparedCall) -> Audit? {
    var stored = memory.get(call.id)?.cid
    if stored == nil {
      do {
        stored = try backend.call(call.id)?.outputCID
      } catch {
        warn(.storeFailure, call.reference, "could not read its record to audit it (\(error)).")
      }
    }
    let inputs = callInputs(call)
    guard let stored, histories.openIfClosed(call.id, inputs: inputs, parts: call.inputParts) else {
      return nil
    }
    let keyFields = call.keyFields
    let stack = CallStack(
      id: call.id, parent: call.caller,
      random: RandomStream(call: call, keyFields: keyFields, trial: call.trial))
    return Audit(
      scope: TaskScope(stack: stack, trial: call.trial, isAuditing: true), stored: stored,
      started: Date(), clock: .now, inputs: inputs, keyFields: keyFields)
  }

  /// Ends an audit: records what the run gave next to the stored result, and
  /// says so when it differs. Returns the new result when it replaces the
  /// stored one.
  private func didAudit<R: Codable & Sendable, E: Error>(
    _ call: PreparedCall, _ audit: Audit, _ result: Result<R, E>
  ) -> R? {
    histories.close(call.id)
    let duration = (ContinuousClock.now - audit.clock).inSeconds
    var audited: (cid: ContentID?, error: String?) = (nil, nil)
    var value: R?
    switch result {
    case .success(let success):
      do {
        audited.cid = try ValueCodec.contentID(of: success)
        value = success
      } catch {
        audited.error = "its result could not be encoded (\(error))"
      }
    case .failure(let error):
      audited.error = "it threw \(error)"
    }
    let record = AuditRecord(
      call: call.id, op: call.op.id, opVersion: call.op.version, trial: call.filedTrial,
      storedCID: audit.stored, auditedCID: audited.cid, error: audited.error,
      auditedAt: audit.started, duration: duration, host: Host.name, pid: Host.pid)
    do {
      try backend.recordAudit(record)
    } catch {
      warn(.storeFailure, call.reference, "could not record its audit (\(error)).")
    }
    eventCenter.emit(.didAudit(call.reference, record))
    guard record.differs else { return nil }
    let replacing = configuration.audit.replacesDifferingResults ? value : nil
    warn(
      .auditDiffered, call.reference,
      "run again to audit it, "
        + (audited.cid.map { "it gave another result (cid \($0); stored: \(audit.stored))" }
          ?? audited.error ?? "it failed")
        + (replacing != nil
          ? "; the new result replaces the stored one (AuditPolicy.replacesDifferingResults)."
          : "; the stored result is kept. `recall audit` lists the findings."))
    guard let replacing else { return nil }
    self.record(
      call, replacing, inputs: audit.inputs, keyFields: audit.keyFields,
      startedAt: audit.started, duration: duration, cause: nil, claimed: false)
    return replacing
  }

  /// Every audit the store recorded, of one op or of all, most recent first.
  ///
  /// - Parameter op: The op (`nil` for every op).
  public func audits(of op: OpID? = nil) throws -> [AuditRecord] {
    try backend.audits(of: op)
  }

  /// The audits the store recorded, per op: how many hits were checked and
  /// which gave another result. Ops sorted by name.
  ///
  /// - Parameter op: The op (`nil` for every op audited).
  public func auditSummaries(of op: OpID? = nil) throws -> [AuditSummary] {
    let grouped = Dictionary(grouping: try audits(of: op), by: \.op)
    return grouped.keys.sorted().map { op in
      let audits = grouped[op]!.sorted { $0.auditedAt > $1.auditedAt }
      return AuditSummary(
        op: op, checked: audits.count, differing: audits.filter(\.differs),
        lastAudit: audits[0].auditedAt)
    }
  }
}
