import Synchronization

/// A value that a memoized call's hit returns without decoding it: it is read
/// from the store only when ``value`` is first asked for.
///
/// Return a `Lazy` from a memoized function, and take one as an argument, so
/// that a pipeline re-traced to reach its last step does not decode the
/// results of the steps before it (mandala's references that load on demand):
///
/// ```swift
/// @Memoized
/// func smooth(_ signal: Lazy<[Double]>, pass: Int) throws -> Lazy<[Double]> {
///   Lazy(blur(try signal.value))
/// }
///
/// var signal = Lazy(raw)
/// for pass in 0..<10_000 { signal = try smooth(signal, pass: pass) }
/// print(try signal.value.max()!)   // decodes one result, not 10,000
/// ```
///
/// On a hit, the call's key needs only its arguments' content ids, and a
/// `Lazy` that came from the store knows its own: passing it to the next call
/// neither decodes nor hashes it. A `Lazy` made from a value hashes it once,
/// when it is first an argument or a result, and remembers the content id;
/// the value must not change after that (a miss that stores it checks that
/// it still encodes to that id, and stores nothing if not). A value holding
/// ``TrackedFile``s is hashed again on every call instead, since a file's
/// content is part of its id.
///
/// A `Lazy<Value>` is stored exactly as its `Value` (the same bytes, the same
/// content id), so changing a function's result or parameter type between
/// `Value` and `Lazy<Value>` finds the same calls, under the version the new
/// code has — unless the type itself is part of the key (a generic result,
/// a `some` or `any` parameter, a `#memoized` block's result). Inside another
/// value (a struct's property, an array's element) it is encoded as its
/// value, which is then read. A `Lazy` of a value stored by parts
/// (``MultipleOutputs``, ``Elements``, ``KeyedElements``) is stored whole:
/// not by parts, and not as that value is.
///
/// What a hit checks before it returns a `Lazy`: that the call's record is
/// intact and its result has not expired. A result of a type that may hold
/// ``TrackedFile``s (anything but an array of numbers or `Data`) is also
/// looked through, and decoded at the hit if it holds one, so that a changed
/// file computes the call again. Its bytes are checked when ``value`` reads
/// them, as a hit checks them (a blob file the store wrote and nothing
/// changed since, or its checksum). A value that fails then — damaged, its
/// file removed, or no longer decoding as `Value` — is never returned:
/// ``value`` throws, the store warns (`corruptValue`, `undecodableResult`,
/// …), and the next call of its function computes it again.
///
/// Since a hit does not decode, a change of `Value`'s type that its op's
/// version does not show (a type from another package, without the build
/// plugin's dependency tracking) is noticed only when a value is read:
/// calls downstream of an unread `Lazy` are keyed by the stored content id.
/// Give the op a new version (`@Memoized(version:)`) when such a type
/// changes what its values mean.
///
/// On the SQLite store a hit of a large numeric result opens nothing but the
/// database: its blob file is mapped when the value is read. On PostgreSQL
/// and in memory the hit has the bytes, and only their decoding waits. A
/// ``MappedArray`` result is the other way not to copy a large array: it maps
/// the file at the hit and reads its pages in place; `Lazy<MappedArray<…>>`
/// does both.
public struct Lazy<Value: Codable & Sendable>: Sendable {
  let box: LazyBox<Value>

  /// Wraps a value that is already in memory.
  public init(_ value: Value) {
    box = LazyBox(value: value)
  }

  /// A result the store holds, decoded on first use; `failed` is told when
  /// it cannot be read.
  init(stored: StoredResult, failed: @escaping @Sendable (RecallError) -> Void) {
    box = LazyBox(stored: stored, failed: failed)
  }

  /// The value: decoded from the store the first time it is read (then
  /// kept), or the value the `Lazy` was made with.
  ///
  /// - Throws: ``RecallError/corruptValue`` when the stored bytes are
  ///   damaged or gone, ``RecallError/undecodableValue`` when they no longer
  ///   decode as `Value` (the type changed since they were stored): calling
  ///   the function again computes it.
  public var value: Value {
    get throws(RecallError) { try box.load() }
  }

  /// Whether the value is in memory: made from one, or read already.
  public var isLoaded: Bool { box.isLoaded }

  /// The value's content id: known without reading a result that came from
  /// the store; hashed once (then kept) for a value made in memory.
  ///
  /// - Throws: ``RecallError/invalidValue`` when the value cannot be encoded.
  public var contentID: ContentID {
    get throws(RecallError) { try box.hashed().cid }
  }
}

/// What the runtime needs of a ``Lazy`` without knowing its value's type.
protocol LazyHandle: Sendable {
  /// A handle on a stored result; `failed` is told when it cannot be read
  /// (so that the next call computes it).
  static func deferred(_ stored: StoredResult, failed: @escaping @Sendable (RecallError) -> Void)
    -> Self
  /// The value hashed as an argument: its content id (known, or computed and
  /// kept) and how to produce its stored bytes.
  func hashed() throws(RecallError) -> HashedValue
  /// Notes the content id its value was just encoded with (a body's result).
  func remember(_ cid: ContentID)
  /// Whether its value cannot hold a ``TrackedFile``
  /// (``FileCollection/cannotHold(_:)``), so that a hit need not look inside
  /// it, and leaves its blob file unopened.
  static var holdsNoFiles: Bool { get }
}

extension Lazy: LazyHandle {
  static func deferred(_ stored: StoredResult, failed: @escaping @Sendable (RecallError) -> Void)
    -> Lazy
  {
    Lazy(stored: stored, failed: failed)
  }

  func hashed() throws(RecallError) -> HashedValue { try box.hashed() }

  func remember(_ cid: ContentID) { box.remember(cid) }

  static var holdsNoFiles: Bool { FileCollection.cannotHold(Value.self) }
}

/// The shared state of a ``Lazy`` and its copies: the value once read, the
/// stored result until then, and the content id once known.
final class LazyBox<Value: Codable & Sendable>: Sendable {
  private struct State {
    var value: Value?
    /// Known only for a value without tracked files (whose content id would
    /// change with a file's content).
    var cid: ContentID?
    /// The stored result it reads from (kept once read, so that a miss that
    /// takes it stores its bytes, not an encoding of the decoded value);
    /// `nil` for a value made in memory.
    var stored: StoredResult?
  }

  private let failed: (@Sendable (RecallError) -> Void)?
  private let state: Mutex<State>

  init(value: Value) {
    failed = nil
    state = Mutex(State(value: value))
  }

  init(stored: StoredResult, failed: @escaping @Sendable (RecallError) -> Void) {
    self.failed = failed
    state = Mutex(State(cid: stored.cid, stored: stored))
  }

  var isLoaded: Bool { state.withLock { $0.value != nil } }

  /// The value, if it is in memory.
  var loadedValue: Value? { state.withLock { $0.value } }

  func load() throws(RecallError) -> Value {
    let (loaded, stored) = state.withLock { ($0.value, $0.stored) }
    if let loaded { return loaded }
    // Only a stored handle has no value yet.
    let value: Value
    do {
      value = try Self.decode(stored!)
    } catch {
      // Damaged, gone, unreadable or of another type: not served.
      failed?(error)
      throw error
    }
    // Two threads reading at once decode twice; both get equal values.
    return state.withLock { state in
      if let first = state.value { return first }
      state.value = value
      return value
    }
  }

  private static func decode(_ stored: StoredResult) throws(RecallError) -> Value {
    let opened: StoredResult
    do {
      opened = try stored.opened()
    } catch let error as RecallError {
      throw error
    } catch {
      throw RecallError(RecallError.storeUnavailable, "A stored value could not be read: \(error).")
    }
    do {
      return try opened.storage.decode(Value.self)
    } catch {
      throw RecallError.undecodableValue(stored.cid, as: Value.self, detail: "\(error)")
    }
  }

  /// Notes the content id the value was just encoded with, unless the
  /// encoding noted tracked files.
  func remember(_ cid: ContentID) {
    state.withLock { $0.cid = $0.cid ?? cid }
  }

  func hashed() throws(RecallError) -> HashedValue {
    if Value.self is any CustomContentIdentity.Type {
      // Keyed by its identity, as the value itself is.
      do {
        return try (load() as! any CustomContentIdentity).hashedIdentity()
      } catch let error as RecallError {
        throw error
      } catch {
        throw RecallError.invalidValue("a Lazy<\(Value.self)>'s identity failed: \(error)")
      }
    }
    let (value, known, stored) = state.withLock { ($0.value, $0.cid, $0.stored) }
    if let stored {
      // The stored bytes are the value's stored form: a miss that takes it as
      // an input copies them, never decodes them.
      return HashedValue(cid: stored.cid, form: .deferred { try stored.opened().storage.array })
    }
    let inMemory = value!
    if let known {
      // Encoded again only by a miss that stores it, and checked then: a
      // value that no longer encodes to its content id is not stored under it.
      return HashedValue(
        cid: known,
        form: .deferred {
          let encoded = try ValueCodec.encodeWhole(inMemory)
          guard encoded.cid == known else {
            throw RecallError.invalidValue(
              "a Lazy<\(Value.self)> no longer encodes as it did when it was hashed "
                + "(\(encoded.cid), not \(known)): a value in a Lazy must not change")
          }
          return encoded.bytes
        })
    }
    let (hashed, files): (HashedValue, [TrackedFile])
    do {
      (hashed, files) = try FileCollection.collecting { try ValueCodec.hashWhole(inMemory) }
    } catch {
      throw RecallError.invalidValue("a Lazy<\(Value.self)> could not be encoded: \(error)")
    }
    // A value with tracked files is hashed on every call, as its files may
    // have changed.
    if files.isEmpty { remember(hashed.cid) }
    return hashed
  }
}

extension Lazy: Codable {
  /// Encodes the value (read from the store first, if it is not in memory).
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(try value)
  }

  /// Decodes a value: a `Lazy` decoded inside another value is loaded.
  public init(from decoder: any Decoder) throws {
    self.init(try Value(from: decoder))
  }
}

extension Lazy: CanonicalEncodable {
  /// The value's own node, so that a `Lazy` hashes and stores as its value.
  func canonicalNode(_ encoder: CanonicalEncoder) throws -> Node {
    try encoder.node(for: try value)
  }
}

extension Lazy: CanonicalDecodable {
  static func canonicalDecode(_ reader: inout ByteReader) throws -> Lazy {
    var end = reader
    try end.skipNode()
    let value = try CanonicalDecoder.decode(
      Value.self, bytes: reader.bytes, offset: reader.offset, codingPath: [])
    reader = end
    return Lazy(value)
  }
}

extension Lazy: CustomStringConvertible {
  /// The value, if it is in memory; else what the `Lazy` refers to.
  public var description: String {
    if let value = box.loadedValue { return "Lazy(\(value))" }
    return "Lazy<\(Value.self)>(not read)"
  }
}
