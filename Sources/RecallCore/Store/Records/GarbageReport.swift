import Foundation

/// What a garbage collection removed.
public struct GarbageReport: Sendable, Hashable {
  /// Values deleted.
  public var values: Int
  /// Their bytes.
  public var bytes: Int
  /// Blob files deleted that no value named (left by interrupted writes).
  public var orphanFiles: Int
  /// Environments deleted that no call names (``CallEnvironment``), with the
  /// uncommitted changes only they named.
  public var environments: Int

  /// Creates a report.
  public init(values: Int, bytes: Int, orphanFiles: Int, environments: Int = 0) {
    self.environments = environments
    self.values = values
    self.bytes = bytes
    self.orphanFiles = orphanFiles
  }
}

/// What ``Store/prune(of:startedBefore:unusedFor:)`` removed.
public struct PruneReport: Sendable, Hashable {
  /// The stale calls forgotten.
  public var calls: Int
  /// The values (and blob files) deleted once no call used them.
  public var garbage: GarbageReport

  /// Creates a report.
  public init(calls: Int, garbage: GarbageReport) {
    self.calls = calls
    self.garbage = garbage
  }
}
