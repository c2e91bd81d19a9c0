import Foundation

/// What a garbage collection removed.
public struct GarbageReport: Sendable, Hashable {
  /// Values deleted.
  public var values: Int
  /// Their bytes.
  public var bytes: Int
  /// Blob files deleted that no value named (left by interrupted writes).
  public var orphanFiles: Int

  /// Creates a report.
  public init(values: Int, bytes: Int, orphanFiles: Int) {
    self.values = values
    self.bytes = bytes
    self.orphanFiles = orphanFiles
  }
}
