import Foundation

/// A stored value whose bytes a disk budget may evict: the output of at least
/// one call, an input of none, named by no tag (``StoreReader/evictionCandidates()``).
public struct EvictionCandidate: Sendable, Hashable {
  /// The value.
  public var cid: ContentID
  /// The bytes it takes.
  public var bytes: Int
  /// The seconds the calls that returned it took, together: what evicting it
  /// may cost to compute again.
  public var computeTime: Double
  /// When the last of those calls finished.
  public var lastComputed: Date

  /// Creates a candidate.
  public init(cid: ContentID, bytes: Int, computeTime: Double, lastComputed: Date) {
    self.cid = cid
    self.bytes = bytes
    self.computeTime = computeTime
    self.lastComputed = lastComputed
  }

  /// Whether this value goes before `other`: it is cheaper to compute again
  /// per byte it frees, or as cheap and computed longer ago. The one order
  /// every backend's evictions follow.
  public func isEvicted(before other: EvictionCandidate) -> Bool {
    // Compared as cross products: no division, and a value of 0 bytes (which
    // frees nothing) goes last.
    let mine = computeTime * Double(other.bytes)
    let theirs = other.computeTime * Double(bytes)
    if mine != theirs { return mine < theirs }
    if lastComputed != other.lastComputed { return lastComputed < other.lastComputed }
    return cid < other.cid
  }
}

/// A value whose bytes were evicted (``StoreWriter/evict(_:at:)``).
public struct EvictedValue: Sendable, Hashable {
  /// The value.
  public var cid: ContentID
  /// The bytes freed.
  public var bytes: Int

  /// Creates a record of an evicted value.
  public init(cid: ContentID, bytes: Int) {
    self.cid = cid
    self.bytes = bytes
  }
}

/// What keeping a store within a disk budget evicted (``Store/evict(toFit:)``).
public struct EvictionReport: Sendable, Hashable {
  /// The budget, in bytes of stored values.
  public var budget: Int
  /// The bytes of stored values before the eviction.
  public var bytesBefore: Int
  /// Values whose bytes were evicted.
  public var values: Int
  /// The bytes they freed.
  public var bytes: Int

  /// Creates a report.
  public init(budget: Int, bytesBefore: Int, values: Int = 0, bytes: Int = 0) {
    self.budget = budget
    self.bytesBefore = bytesBefore
    self.values = values
    self.bytes = bytes
  }

  /// The bytes of stored values after the eviction (as far as this process
  /// knows: others may have stored more meanwhile).
  public var bytesAfter: Int { bytesBefore - bytes }

  /// Whether the store is within its budget now. It is not when what is over
  /// cannot be evicted: inputs of calls, and values a tag names.
  public var isWithinBudget: Bool { bytesAfter <= budget }
}

/// An op's calls whose results were evicted: their records stay, and their
/// next call computes them again (``StoreReader/evictions()``).
public struct OpEvictions: Sendable, Hashable {
  /// The op.
  public var op: OpID
  /// Its calls whose results are evicted.
  public var calls: Int
  /// The bytes those results took.
  public var bytes: Int

  /// Creates an op's count of evictions.
  public init(op: OpID, calls: Int, bytes: Int) {
    self.op = op
    self.calls = calls
    self.bytes = bytes
  }
}
