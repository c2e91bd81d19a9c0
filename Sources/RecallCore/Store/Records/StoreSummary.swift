import Foundation

/// What a store holds.
public struct StoreSummary: Sendable, Hashable {
  /// Stored calls.
  public var calls: Int
  /// Stored values (one per cid).
  public var values: Int
  /// Bytes of stored values.
  public var bytes: Int

  /// Creates a summary.
  public init(calls: Int, values: Int, bytes: Int) {
    self.calls = calls
    self.values = values
    self.bytes = bytes
  }
}

/// What a store holds of one op.
public struct OpSummary: Sendable, Hashable {
  /// The op.
  public var op: OpID
  /// Stored calls.
  public var calls: Int
  /// Versions seen.
  public var versions: Int
  /// Bytes of the calls' outputs, as encoded (a value shared by several calls
  /// counts for each).
  public var outputBytes: Int
  /// When the most recent stored call started.
  public var lastCall: Date?
  /// The summed duration of the stored calls: what recomputing them would cost.
  public var computeTime: Duration

  /// Creates a summary.
  public init(
    op: OpID, calls: Int, versions: Int, outputBytes: Int, lastCall: Date?,
    computeTime: Duration = .zero
  ) {
    self.op = op
    self.calls = calls
    self.versions = versions
    self.outputBytes = outputBytes
    self.lastCall = lastCall
    self.computeTime = computeTime
  }
}
