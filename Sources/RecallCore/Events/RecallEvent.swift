import Foundation

/// Something that happened during a memoized call.
///
/// Observe events with ``Store/observe(_:)`` or ``Store/events()``; tests,
/// logging, progress bars and viewers all read the same stream. New kinds of
/// events are added over time (``didAudit(_:_:)`` is one): give a `switch`
/// over events a `default` case.
public enum RecallEvent: Sendable {
  /// The call was not found and its body is about to run.
  case willExecute(CallReference)
  /// Another process is computing the call: this one waits for its result
  /// (see ``ClaimPolicy``).
  case willWait(CallReference, holder: Claimant)
  /// The body returned after running for `duration`.
  case didExecute(CallReference, duration: Duration)
  /// The result was stored; `bytes` is the size of its encoding.
  case didStore(CallReference, bytes: Int)
  /// The result was returned but not stored, by the op's or the store's
  /// ``StoragePolicy``: kept in memory only, computed too quickly, or too
  /// large.
  case didNotStore(CallReference, NotStoredReason)
  /// A stored result was returned instead of running the body. `saved` is how
  /// long the body took when it ran.
  case didReuse(CallReference, source: ReuseSource, saved: Duration)
  /// The body threw; nothing was stored.
  case didFail(CallReference, error: String)
  /// A hit was audited (``AuditPolicy``): its body ran again, and `audit` says
  /// whether it gave the stored result.
  case didAudit(CallReference, AuditRecord)
  /// A call missed, and its body is about to run: why it could not be
  /// reused, as far as the lookup saw (``MissCause``; ``Store/explainRun(of:)``
  /// says more for ``MissCause/notStored``). Followed by
  /// ``willExecute(_:)``.
  case didMiss(CallReference, MissCause)
  /// Stored results were evicted to keep the store within its disk budget
  /// (``Store/Configuration/diskBudget``, ``Store/evict(toFit:)``).
  case didEvict(EvictionReport)
  /// Something went wrong that did not stop the call; see the warning.
  case warning(RecallWarning)

  /// The call the event is about, if any.
  public var call: CallReference? {
    switch self {
    case .willExecute(let call), .willWait(let call, _), .didExecute(let call, _),
      .didStore(let call, _), .didNotStore(let call, _), .didMiss(let call, _),
      .didReuse(let call, _, _), .didFail(let call, _), .didAudit(let call, _):
      call
    case .warning(let warning): warning.call
    case .didEvict: nil
    }
  }
}

extension RecallEvent: CustomStringConvertible {
  /// The event as a line for people: what happened to which call, with its
  /// duration or size (`computed Experiments.walk(steps: Int) [3f9c1a2b7d0e]
  /// (trial 2) in 12.5 ms`).
  public var description: String {
    switch self {
    case .willExecute(let call): "computing \(call.readable)"
    case .willWait(let call, let holder):
      "waiting for \(call.readable), which \(holder) is computing"
    case .didExecute(let call, let duration):
      "computed \(call.readable) in \(Readable.duration(duration.inSeconds))"
    case .didStore(let call, let bytes): "stored \(call.readable) (\(Readable.size(bytes)))"
    case .didNotStore(let call, .memoryOnly): "kept \(call.readable) in memory only"
    case .didNotStore(let call, let reason): "did not store \(call.readable): \(reason)"
    case .didReuse(let call, let source, let saved):
      "reused \(call.readable) from \(source == .memory ? "memory" : "the store"), "
        + "saving \(Readable.duration(saved.inSeconds))"
    case .didFail(let call, let error): "failed \(call.readable): \(error)"
    case .didAudit(let call, let audit):
      "audited \(call.readable): "
        + (audit.error.map { "the rerun failed: \($0)" }
          ?? (audit.differs ? "the rerun gave another result" : "same result"))
    case .didMiss(let call, let cause): "missed \(call.readable): \(cause)"
    case .didEvict(let report):
      "evicted \(report.values) stored \(report.values == 1 ? "result" : "results") "
        + "(\(Readable.size(report.bytes))) to keep the store within "
        + "\(Readable.size(report.budget))"
    case .warning(let warning): warning.description
    }
  }
}

/// Which layer served a reused result.
public enum ReuseSource: String, Sendable {
  /// The in-process memory layer.
  case memory
  /// The store's backend (database or blob files).
  case store
}

/// The call an event is about.
public struct CallReference: Sendable, Hashable, CustomStringConvertible {
  /// The op that was called.
  public let op: OpID
  /// The call's id.
  public let call: CallID
  /// The trial the call is filed under: the trial it runs in for a random
  /// call (one that draws from ``RandomSource``), 0 for a call every trial
  /// shares. A call whose version this process has not yet seen run may be
  /// announced (``RecallEvent/willExecute(_:)``) under the shared key and
  /// finish (``RecallEvent/didExecute(_:duration:)``, ``RecallEvent/didStore(_:bytes:)``)
  /// under its trial's, with another ``call`` id, once it is known to draw.
  public let trial: Int

  public var description: String { "\(op.name) [\(call)]" }

  /// The description, with the trial when there is one.
  var readable: String { trial == 0 ? description : "\(description) (trial \(trial))" }
}

/// A problem that Recall handled without failing the call.
public struct RecallWarning: Sendable, CustomStringConvertible {
  /// The kind of a ``RecallWarning``.
  public struct Kind: Hashable, Sendable, CustomStringConvertible {
    let rawValue: String
    public var description: String { rawValue }

    /// An argument could not be hashed; the call ran without memoization.
    public static let unhashableArgument = Kind(rawValue: "unhashableArgument")
    /// The result could not be encoded; it was returned but not stored.
    public static let unencodableResult = Kind(rawValue: "unencodableResult")
    /// A stored result no longer decodes as the result type (the type changed);
    /// the call was recomputed and its result replaced.
    public static let undecodableResult = Kind(rawValue: "undecodableResult")
    /// A stored value failed its integrity check; it was quarantined and the
    /// call recomputed.
    public static let corruptValue = Kind(rawValue: "corruptValue")
    /// A stored result is in an encoding format a newer version of Recall
    /// wrote, which this one cannot read: the call was recomputed and its
    /// result stored again in this version's format (which newer versions
    /// read too). Said once per op and process.
    public static let valueFromNewerVersion = Kind(rawValue: "valueFromNewerVersion")
    /// An audit of a hit (``AuditPolicy``) gave another result than the
    /// stored one, or failed: the result is not reproducible with the current
    /// code, or depends on more than its inputs.
    public static let auditDiffered = Kind(rawValue: "auditDiffered")
    /// The store could not be read or written; the call ran without it.
    public static let storeFailure = Kind(rawValue: "storeFailure")
    /// Another process held the call longer than ``ClaimPolicy/maximumWait``;
    /// this one ran it too.
    public static let waitedTooLong = Kind(rawValue: "waitedTooLong")
  }

  /// The kind of problem.
  public let kind: Kind
  /// The call it happened in, if any.
  public let call: CallReference?
  /// A description of the problem and of what Recall did about it.
  public let message: String

  public var description: String {
    "recall: warning: " + (call.map { "\($0.op.name): " } ?? "") + message
  }
}

/// The call an event is about, under its former name.
@available(*, deprecated, renamed: "CallReference")
public typealias CallEvent = CallReference
