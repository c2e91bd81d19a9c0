import Foundation

/// One execution record: what was called, with what, what it returned, when and
/// where.
public struct CallRecord: Sendable, Hashable {
  /// The call's id (its key).
  public var id: CallID
  /// The op.
  public var op: OpID
  /// The op version the call ran with.
  public var opVersion: CodeFingerprint
  /// The semantic version the call is filed under (lookups use it).
  public var semanticVersion: CodeFingerprint
  /// The trial its result belongs to: the trial it ran in if it is random
  /// (it drew from ``RandomSource``, or used a random call's result), 0 if
  /// every trial shares it.
  public var trial: Int
  /// The inputs, by parameter name.
  public var inputs: [CallInput]
  /// The output value's content id.
  public var outputCID: ContentID
  /// The output value's history id.
  public var outputHID: HistoryID
  /// The size in bytes of the output's encoding.
  public var outputSize: Int
  /// When the body started.
  public var startedAt: Date
  /// How long the body ran, in seconds.
  public var duration: Double
  /// The host that ran the body.
  public var host: String
  /// The process id that ran the body.
  public var pid: Int
  /// The fields of the call's key after the op's (the inputs' names and cids,
  /// and the types in the key), as hashed: with the op, semantic version and
  /// trial they give the id, so a store can file the call under another
  /// semantic version (``CallID/init(op:semanticVersion:trial:keyFields:isRandom:)``).
  /// `nil` for calls recorded before Recall kept them.
  public var keyFields: [UInt8]?
  /// When the call's result was evicted to keep the store within its disk
  /// budget (``Store/Configuration/diskBudget``), or `nil` when it is stored
  /// (or was never evicted). An evicted call keeps its record; its next call
  /// computes it again, and stores it.
  public var evictedAt: Date?
  /// Why the call ran rather than being reused, as its lookup saw it
  /// (``RecallEvent/didMiss(_:_:)``); `nil` for a seeded result
  /// (``MemoizedCall/store(_:computedIn:in:)``), a result an audit replaced
  /// (``AuditPolicy``), and calls recorded before Recall kept it.
  public var missCause: MissCause?
  /// What the call ran in: its code's commit and changes, the compiler, the
  /// dependencies, the system (``StoreReader/environment(_:)``); `nil` for
  /// calls recorded before Recall kept it.
  public var environment: EnvironmentID?

  /// Creates a call record.
  public init(
    id: CallID, op: OpID, opVersion: CodeFingerprint, semanticVersion: CodeFingerprint,
    trial: Int, inputs: [CallInput], outputCID: ContentID, outputHID: HistoryID,
    outputSize: Int, startedAt: Date, duration: Double, host: String, pid: Int,
    keyFields: [UInt8]? = nil, evictedAt: Date? = nil, missCause: MissCause? = nil,
    environment: EnvironmentID? = nil
  ) {
    self.keyFields = keyFields
    self.environment = environment
    self.missCause = missCause
    self.evictedAt = evictedAt
    self.id = id
    self.op = op
    self.opVersion = opVersion
    self.semanticVersion = semanticVersion
    self.trial = trial
    self.inputs = inputs
    self.outputCID = outputCID
    self.outputHID = outputHID
    self.outputSize = outputSize
    self.startedAt = startedAt
    self.duration = duration
    self.host = host
    self.pid = pid
  }
}

extension CallRecord {
  /// Whether the call is random, computed once per trial rather than shared
  /// by every trial: known from its trial, or for trial 0 from its id (a
  /// random call's key is made in a domain of its own). `nil` for a call of
  /// trial 0 recorded before Recall kept key fields.
  public var isRandom: Bool? {
    if trial != 0 { return true }
    guard let keyFields else { return nil }
    return CallID.scheme(
      of: op, for: id, semanticVersion: semanticVersion, trial: 0, keyFields: keyFields)?.isRandom
  }
}

/// One input of a call.
public struct CallInput: Sendable, Hashable {
  /// The parameter name (`self` for the receiver of an instance method).
  public var name: String
  /// The input value's content id.
  public var cid: ContentID
  /// The input value's history id.
  public var hid: HistoryID

  /// Creates a call input.
  public init(name: String, cid: ContentID, hid: HistoryID) {
    self.name = name
    self.cid = cid
    self.hid = hid
  }
}
