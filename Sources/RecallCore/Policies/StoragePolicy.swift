/// What Recall keeps of an op's results: only those worth storing, in the
/// store or in memory only, for as long as they may be served.
///
/// Set it store-wide in ``Store/Configuration/storage`` and per op with
/// `@Memoized(storage:)`; an op's policy takes what it leaves open (`nil`) from
/// the store's. The default keeps every result, forever.
///
/// ```swift
/// @Memoized(storage: StoragePolicy(minimumDuration: .milliseconds(50), maximumBytes: 100 << 20))
/// func features(_ image: Image) -> [Float] { ... }
///
/// @Memoized(storage: .memoryOnly)
/// func parse(_ text: String) -> Document { ... }
/// ```
///
/// A result the policy does not store is returned as usual and said in a
/// ``RecallEvent/didNotStore(_:_:)`` event and in the store's record of use
/// (``OpUsage/notStored``, `recall stats`); its next call computes it again.
public struct StoragePolicy: Sendable, Hashable {
  /// Results whose body ran for less are not stored: computing them again
  /// costs less than storing and reading them. `nil`: no minimum.
  public var minimumDuration: Duration?

  /// Results whose encoding is larger are not stored (nor kept in memory).
  /// `nil`: no maximum.
  public var maximumBytes: Int?

  /// Whether results are kept in this process's memory layer only, never
  /// written to the store: later calls in the process reuse them, other
  /// processes and later runs compute them again. `nil`: the store's setting
  /// (by default, results are stored).
  public var isMemoryOnly: Bool?

  /// How long a stored result may be served, from when it was stored: an
  /// older one is computed again and replaced. `nil`: results do not expire.
  public var expiresAfter: Duration?

  /// Creates a policy; what it leaves `nil` comes from the store's.
  public init(
    minimumDuration: Duration? = nil, maximumBytes: Int? = nil, isMemoryOnly: Bool? = nil,
    expiresAfter: Duration? = nil
  ) {
    self.minimumDuration = minimumDuration
    self.maximumBytes = maximumBytes
    self.isMemoryOnly = isMemoryOnly
    self.expiresAfter = expiresAfter
  }

  /// Keeps every result in the store, forever: the store's default.
  public static let storeEverything = StoragePolicy()

  /// Keeps results in this process's memory only.
  public static let memoryOnly = StoragePolicy(isMemoryOnly: true)

  /// This policy, with what it leaves open taken from `defaults`.
  public func over(_ defaults: StoragePolicy) -> StoragePolicy {
    StoragePolicy(
      minimumDuration: minimumDuration ?? defaults.minimumDuration,
      maximumBytes: maximumBytes ?? defaults.maximumBytes,
      isMemoryOnly: isMemoryOnly ?? defaults.isMemoryOnly,
      expiresAfter: expiresAfter ?? defaults.expiresAfter)
  }

  /// Why a result that ran for `duration` seconds and encodes to `bytes`
  /// bytes is not stored, or `nil` when it is.
  public func reasonNotToStore(duration: Double, bytes: Int) -> NotStoredReason? {
    if let maximumBytes, bytes > maximumBytes {
      return .tooLarge(bytes: bytes, maximum: maximumBytes)
    }
    if isMemoryOnly == true { return .memoryOnly }
    if let minimumDuration, duration < minimumDuration.inSeconds {
      return .tooQuick(duration: .seconds(duration), minimum: minimumDuration)
    }
    return nil
  }
}

/// Why a ``StoragePolicy`` did not store a result.
public enum NotStoredReason: Sendable, Hashable, CustomStringConvertible {
  /// The op's results are kept in memory only (``StoragePolicy/isMemoryOnly``).
  case memoryOnly
  /// The body ran for less than ``StoragePolicy/minimumDuration``.
  case tooQuick(duration: Duration, minimum: Duration)
  /// The result's encoding is larger than ``StoragePolicy/maximumBytes``.
  case tooLarge(bytes: Int, maximum: Int)

  public var description: String {
    switch self {
    case .memoryOnly: "kept in memory only"
    case .tooQuick(let duration, let minimum):
      "computed in \(Readable.duration(duration.inSeconds)), under the minimum of "
        + Readable.duration(minimum.inSeconds)
    case .tooLarge(let bytes, let maximum):
      "\(Readable.size(bytes)), over the maximum of \(Readable.size(maximum))"
    }
  }
}
