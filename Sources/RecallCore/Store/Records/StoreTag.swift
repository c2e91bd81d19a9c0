import Foundation

/// A name for a call or a value, such as `baseline` or `best-model`.
public struct StoreTag: Sendable, Hashable {
  /// What a tag names.
  public enum Target: Sendable, Hashable {
    /// A call (and so its output).
    case call(CallID)
    /// A value.
    case value(ContentID)
  }

  /// The tag's name, unique in a store.
  public var name: String
  /// What it names.
  public var target: Target
  /// When it was set.
  public var createdAt: Date

  /// The start of the names of the tags ``Store/register(_:)`` sets, one per
  /// named value's name and version. They record a content id the store may
  /// not hold, and keep nothing from garbage collection or eviction.
  public static let registrationPrefix = "recall.named/"

  /// Creates a tag.
  public init(name: String, target: Target, createdAt: Date = Date()) {
    self.name = name
    self.target = target
    self.createdAt = createdAt
  }
}
