import Synchronization

/// A warm hit's key without a digest (decision 0111): the call's arguments as
/// their raw bits, for calls whose arguments are all plain values (integers,
/// floating-point numbers, `Bool`, short strings, short `[Int]` and
/// `[Double]`), with what else decides the call's id — each argument's
/// type, whether it has a default or keys its type, the types in the key,
/// the result type when keyed, and the trial of a random call.
///
/// Two calls with equal keys have equal ids under one resolution of their op:
/// the bits decide each argument's value, and so its canonical encoding and
/// content id. Argument names are not in the key; the table checks them
/// (``WarmCalls``). A call with any other argument has no warm key
/// (``exists`` is `false`), and is hashed as always.
struct WarmKey: Hashable {
  /// The words; the first is the trial and whether the call is random.
  private var words = Words()

  /// Whether the call has a warm key. (Not an optional key: destroying an
  /// optional went through the runtime's generic witness, about 80
  /// instructions, twice per warm hit.)
  private(set) var exists = true

  /// No key: the call is hashed.
  static var none: WarmKey {
    var key = WarmKey()
    key.exists = false
    return key
  }

  private init() {}

  static func == (lhs: WarmKey, rhs: WarmKey) -> Bool { lhs.words == rhs.words }

  func hash(into hasher: inout Hasher) { hasher.combine(words.mix) }

  /// The table hashes without `Hasher`, as for digests
  /// (``Digest/_rawHashValue(seed:)``): the words are already mixed.
  func _rawHashValue(seed: Int) -> Int {
    Int(truncatingIfNeeded: Digest.mix(words.mix ^ UInt64(UInt(bitPattern: seed))))
  }

  /// Whether the key is the one of a random call (``PreparedCall/isRandom``).
  var isRandom: Bool { words.first & 1 == 1 }

  /// A key's words: the first six in place (a call of one or two small
  /// arguments allocates nothing), the rest in an array; and all of them
  /// mixed into one, so that a lookup hashes one word.
  struct Words: Equatable {
    private var inline: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
    private var count = 0
    private var overflow: [UInt64] = []
    private(set) var mix: UInt64 = 0

    var first: UInt64 { inline.0 }

    mutating func append(_ word: UInt64) {
      mix = (mix ^ word) &* 0x100_0000_01b3
      if count < 6 {
        withUnsafeMutableBytes(of: &inline) {
          $0.storeBytes(of: word, toByteOffset: 8 * count, as: UInt64.self)
        }
      } else {
        overflow.append(word)
      }
      count += 1
    }

    static func == (lhs: Words, rhs: Words) -> Bool {
      lhs.count == rhs.count && lhs.inline == rhs.inline && lhs.overflow == rhs.overflow
    }
  }

  /// Longest string, in UTF-8 bytes, and longest array, in elements, that
  /// a warm key holds: longer ones are hashed.
  static let longestString = 256
  static let longestArray = 64

  /// The warm key of a call, or ``none`` when an argument is not a plain
  /// value.
  init(
    _ op: Op, _ arguments: [Argument], _ types: [any Any.Type], result: any Any.Type,
    trial: Int
  ) {
    let isRandom = op.details.knownRandomness == .random
    words.append(isRandom ? UInt64(bitPattern: Int64(trial)) << 1 | 1 : 0)
    // By index: each argument's fields are read in place (a `for` loop
    // copied each argument, a tenth of a warm hit).
    for index in arguments.indices {
      var flags: UInt64 = arguments[index].hasDefault ? 1 << 8 : 0
      let keyed = arguments[index].keyedType.map(Self.word)
      if keyed != nil { flags |= 1 << 9 }
      guard Self.append(arguments[index].value, flags: flags, keyed: keyed, to: &words) else {
        self = .none
        return
      }
    }
    words.append(UInt64(types.count))
    for type in types { words.append(Self.word(type)) }
    if op.keysResultType { words.append(Self.word(result)) }
  }

  private static func word(_ type: any Any.Type) -> UInt64 {
    UInt64(UInt(bitPattern: ObjectIdentifier(type)))
  }

  /// Two bits per plain type's tag: whether the type was checked, and
  /// whether this program gives it a ``CustomContentIdentity`` (or makes it
  /// lazy, or stores it by parts) by a retroactive conformance. Such a type's
  /// values are hashed as always, never by their bits. Each type is checked
  /// the first time a call has an argument of it: a check scans the
  /// program's conformances (three scans, about 0.1 ms each in a large
  /// program, scenario C), so a process pays only for the types it uses.
  private static let retroactive = Atomic<UInt64>(0)

  /// Whether values of `type`, a plain type with `tag`, are keyed by their
  /// bits in this program.
  private static func isPlain(_ type: any Any.Type, tag: UInt64) -> Bool {
    let checked: UInt64 = 1 << (2 * tag)
    let state = retroactive.load(ordering: .relaxed)
    if state & checked != 0 { return state & (checked << 1) == 0 }
    let conforms =
      type is any CustomContentIdentity.Type || type is any LazyHandle.Type
      || type is any _StoredByParts.Type
    retroactive.bitwiseOr(checked | (conforms ? checked << 1 : 0), ordering: .relaxed)
    return !conforms
  }

  /// Appends a plain value's tag (with `flags`), the type it keys (if any)
  /// and its bits; `false` for any other value.
  private static func append<T: Encodable>(
    _ value: T, flags: UInt64, keyed: UInt64?, to words: inout Words
  ) -> Bool {
    let type: UInt64
    switch ObjectIdentifier(T.self) {
    case ObjectIdentifier(Int.self): type = 1
    case ObjectIdentifier(Double.self): type = 2
    case ObjectIdentifier(Bool.self): type = 3
    case ObjectIdentifier(Float.self): type = 4
    case ObjectIdentifier(Int64.self): type = 5
    case ObjectIdentifier(Int32.self): type = 6
    case ObjectIdentifier(Int16.self): type = 7
    case ObjectIdentifier(Int8.self): type = 8
    case ObjectIdentifier(UInt.self): type = 9
    case ObjectIdentifier(UInt64.self): type = 10
    case ObjectIdentifier(UInt32.self): type = 11
    case ObjectIdentifier(UInt16.self): type = 12
    case ObjectIdentifier(UInt8.self): type = 13
    case ObjectIdentifier(String.self): type = 14
    case ObjectIdentifier([Int].self): type = 15
    case ObjectIdentifier([Double].self): type = 16
    default: return false
    }
    guard isPlain(T.self, tag: type) else { return false }
    // A tag per type: equal bits of two types are two keys.
    func tag(_ word: UInt64) {
      words.append(word | flags)
      if let keyed { words.append(keyed) }
    }
    func scalar() {
      tag(type)
      words.append(bits(of: value, type))
    }
    // Each UTF-8 byte or element, after the count; zeros fill the last word
    // (the count tells "a" from "a\0").
    func bytes(_ raw: UnsafeRawBufferPointer) {
      tag(type | UInt64(raw.count) << 16)
      var index = 0
      while index < raw.count {
        var word: UInt64 = 0
        let length = min(8, raw.count - index)
        withUnsafeMutableBytes(of: &word) { target in
          target.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[index..<index + length]))
        }
        words.append(word)
        index += length
      }
    }
    switch type {
    case 14:
      var string = unsafeBitCast(value, to: String.self)
      guard string.utf8.count <= longestString else { return false }
      string.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    case 15:
      let array = unsafeBitCast(value, to: [Int].self)
      guard array.count <= longestArray else { return false }
      array.withUnsafeBytes { bytes($0) }
    case 16:
      let array = unsafeBitCast(value, to: [Double].self)
      guard array.count <= longestArray else { return false }
      array.withUnsafeBytes { bytes($0) }
    default:
      scalar()
    }
    return true
  }

  /// The bits of a scalar of the plain type with tag `type`, zero-extended
  /// to a word. (Read by type: copying any value's bytes went through the
  /// runtime, a twentieth of a warm hit.)
  private static func bits<T>(of value: T, _ type: UInt64) -> UInt64 {
    switch type {
    case 1: UInt64(UInt(bitPattern: unsafeBitCast(value, to: Int.self)))
    case 2: unsafeBitCast(value, to: Double.self).bitPattern
    case 3: unsafeBitCast(value, to: Bool.self) ? 1 : 0
    case 4: UInt64(unsafeBitCast(value, to: Float.self).bitPattern)
    case 5: UInt64(bitPattern: unsafeBitCast(value, to: Int64.self))
    case 6: UInt64(UInt32(bitPattern: unsafeBitCast(value, to: Int32.self)))
    case 7: UInt64(UInt16(bitPattern: unsafeBitCast(value, to: Int16.self)))
    case 8: UInt64(UInt8(bitPattern: unsafeBitCast(value, to: Int8.self)))
    case 9: UInt64(unsafeBitCast(value, to: UInt.self))
    case 10: unsafeBitCast(value, to: UInt64.self)
    case 11: UInt64(unsafeBitCast(value, to: UInt32.self))
    case 12: UInt64(unsafeBitCast(value, to: UInt16.self))
    default: UInt64(unsafeBitCast(value, to: UInt8.self))
    }
  }
}

/// The ids of an op's warm calls in one store, by warm key (decision 0111):
/// a hit whose key is here computes no digest. Filled by hits that computed
/// their id; kept for one store and one semantic version of the op (another
/// empties it), and for one list of argument names.
final class WarmCalls: Sendable {
  private struct Table {
    var store: UInt64 = 0
    var semanticVersion: CodeFingerprint?
    var names: [String] = []
    var ids: [WarmKey: CallID] = [:]
  }

  /// Most keys kept; a full table is emptied (a sweep wider than this
  /// hashes, as before).
  static let capacity = 1 << 16

  private let table = Mutex(Table())

  /// The id filed under `key` by a call of the same store, resolution and
  /// argument names.
  func id(
    _ key: WarmKey, _ arguments: [Argument], store: UInt64, semanticVersion: CodeFingerprint
  ) -> CallID? {
    table.withLock { table in
      guard table.store == store, table.semanticVersion == semanticVersion,
        table.names.count == arguments.count, let id = table.ids[key]
      else { return nil }
      for index in arguments.indices where table.names[index] != arguments[index].name {
        return nil
      }
      return id
    }
  }

  /// How many keys the table holds.
  var count: Int { table.withLock { $0.ids.count } }

  /// Remembers a call's id under its warm key.
  func remember(_ key: WarmKey, _ call: PreparedCall, _ arguments: [Argument], store: UInt64) {
    let names = arguments.map(\.name)
    table.withLock { table in
      if table.store != store || table.semanticVersion != call.semanticVersion
        || table.names != names || table.ids.count >= Self.capacity
      {
        table = Table(store: store, semanticVersion: call.semanticVersion, names: names)
      }
      table.ids[key] = call.id
    }
  }
}
