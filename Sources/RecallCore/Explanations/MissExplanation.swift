import Foundation

/// What a memoized call saw when it missed, said in
/// ``RecallEvent/didMiss(_:_:)`` just before its body runs. The runtime
/// knows it without asking the store anything more; for ``notStored``,
/// ``Store/explainRun(of:)`` says why nothing was stored, once the call ran.
public enum MissCause: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
  /// Nothing is stored under the call's key (never computed, computed under
  /// another version or with other inputs, evicted, or forgotten).
  case notStored
  /// Its stored result is older than its op's ``StoragePolicy/expiresAfter``.
  case expired
  /// Its stored result no longer decodes as the result type (the type changed).
  case undecodable
  /// Its stored result failed its integrity check, and was quarantined.
  case corrupt
  /// Its stored result could not be read (the store failed, or a newer
  /// Recall wrote it).
  case unreadable
  /// It was made in ``Memoization/recomputing(_:)-(()->R)``.
  case recomputing
  /// Another process was computing it and held its claim longer than
  /// ``ClaimPolicy/maximumWait``: this one ran it too.
  case claimTimedOut
  /// A file its stored result holds (``TrackedFile``) changed or is gone
  /// since the result was stored.
  case fileChanged

  /// The cause's number in a store's records.
  package var storedCode: Int {
    switch self {
    case .notStored: 1
    case .expired: 2
    case .undecodable: 3
    case .corrupt: 4
    case .unreadable: 5
    case .recomputing: 6
    case .claimTimedOut: 7
    case .fileChanged: 8
    }
  }

  /// The cause a store's record numbers `code`, or `nil` for a number a
  /// newer Recall wrote.
  package init?(storedCode code: Int) {
    guard let cause = Self.allCases.first(where: { $0.storedCode == code }) else { return nil }
    self = cause
  }

  public var description: String {
    switch self {
    case .notStored: "not stored"
    case .expired: "its stored result expired"
    case .undecodable: "its stored result no longer decodes (the result type changed)"
    case .corrupt: "its stored result failed its integrity check"
    case .unreadable: "its stored result could not be read"
    case .recomputing: "asked to recompute it (Memoization.recomputing)"
    case .claimTimedOut: "another process held it longer than ClaimPolicy.maximumWait"
    case .fileChanged: "a file its stored result holds changed or is gone"
    }
  }
}

/// Why a call is not reused (``Store/explain(_:)``), or was not when it ran
/// (``Store/explainRun(of:)``).
public enum MissExplanation: Sendable, Hashable, CustomStringConvertible {
  /// Not a miss: the call is stored, and would be reused.
  case stored
  /// No call of the op is stored (or none before this one ran).
  case neverComputed
  /// A call with the same inputs is stored under another version of the op,
  /// which the current one does not reuse; `changes` says what changed
  /// between them (``VersionDiff/isComplete`` is false when the store lacks
  /// one version's code).
  case otherVersion(stored: CallRecord, changes: VersionDiff)
  /// The same inputs and version, in another trial (a call that draws is
  /// computed once per trial: ``Trial``).
  case otherTrial(stored: CallRecord)
  /// The same inputs, version and trial under another key: other types in
  /// the key (a generic function's), or filed as every trial's rather than
  /// the trial's own (or the reverse).
  case otherKey(stored: CallRecord)
  /// Stored, but its result no longer decodes as the result type (the type
  /// changed): it would be computed again.
  case undecodable
  /// The nearest stored call (the most inputs in common, then the most
  /// recent) differs in the arguments `differing`; `upstream` names, for
  /// those of this call's arguments that another op returned, the call that
  /// did.
  case otherInputs(nearest: CallRecord, differing: [String], upstream: [String: CallRecord])
  /// Its result was evicted to keep the store within its disk budget.
  case evicted(at: Date)
  /// Its stored result is older than its op's ``StoragePolicy/expiresAfter``.
  case expired(storedAt: Date)
  /// Stored, but a file its result holds (``TrackedFile``) changed or is
  /// gone since: it would be computed again.
  case fileChanged(path: String)
  /// It ran although a result was stored, or another process was computing
  /// it: its lookup saw `cause` (recorded with the call: expired,
  /// undecodable, corrupt, unreadable, recomputing, or a claim timed out).
  case sawWhenItRan(MissCause)

  public var description: String {
    switch self {
    case .sawWhenItRan(let cause): "when it ran, \(cause)"
    case .stored: "stored: the call is reused"
    case .neverComputed: "never computed: no call of the op was stored before"
    case .otherVersion(let stored, let changes):
      "computed under another version (\(stored.opVersion) → \(changes.to)), which this one "
        + "does not reuse: "
        + (!changes.isComplete
          ? "the store does not have the code of both versions"
          : changes.changes.isEmpty
            ? "they cover the same code (a parameter was added)"
            : changes.changes.map(\.summary).joined(separator: "; "))
    case .otherTrial(let stored):
      "computed in trial \(stored.trial) only: a call that draws is computed once per trial"
    case .otherKey(let stored):
      "computed with the same inputs under another key (\(stored.id)): other types in the key, "
        + "or filed as shared by every trial rather than the trial's own"
    case .undecodable: "stored, but its result no longer decodes as the result type"
    case .otherInputs(let nearest, let differing, let upstream):
      "computed with other inputs: the nearest stored call, \(nearest.id), differs in "
        + differing.map { name in
          upstream[name].map { "\(name) (returned by \($0.op.name) [\($0.id)])" } ?? name
        }.joined(separator: ", ")
    case .evicted(let date):
      "evicted at \(Self.format(date)) to keep the store within its disk budget"
    case .expired(let date):
      "expired: stored at \(Self.format(date)), older than its op's expiresAfter"
    case .fileChanged(let path):
      "stored, but the file \(path), which its result holds, changed or is gone since"
    }
  }

  private static func format(_ date: Date) -> String {
    ISO8601DateFormatter().string(from: date)
  }
}
