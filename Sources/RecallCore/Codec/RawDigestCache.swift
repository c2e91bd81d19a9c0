import Synchronization

/// The digests of large raw buffers (arrays of numbers, `Data`) this process
/// has hashed, by buffer identity, so that passing the same unmodified array
/// to memoized calls again costs a lookup instead of a pass over its memory.
///
/// An entry keeps the buffer it describes alive. That is what makes it safe:
/// while the cache holds a reference, the buffer is shared, so a mutation of
/// the array (through any copy of it) first copies it to a new address
/// (copy-on-write), and the address can never be reused for other contents.
/// Only buffers of at least ``minimumBytes`` are kept (smaller ones hash in
/// microseconds), within a budget of ``budget`` bytes, least recently used out.
final class RawDigestCache: Sendable {
  static let shared = RawDigestCache()

  /// The smallest buffer worth remembering: 1 MiB.
  static let minimumBytes = 1 << 20
  /// The bytes of buffers the cache may keep alive: 1 GiB.
  let budget: Int

  private struct Key: Hashable {
    var address: UInt
    var count: Int
    var kind: RawKind
  }

  private struct Entry {
    var owner: any RawBuffer
    var digest: Digest
    var lastUse: UInt64
  }

  private struct State {
    var entries: [Key: Entry] = [:]
    var bytes = 0
    var clock: UInt64 = 0
  }

  private let state = Mutex(State())

  init(budget: Int = 1 << 30) {
    self.budget = budget
  }

  /// Set in tests to hash every buffer afresh.
  @TaskLocal static var isBypassed = false

  /// The chunked digest (``Digest/chunkedSHA256(_:)``) of `buffer`'s memory
  /// (`bytes`), remembered for large buffers.
  func digest(of buffer: any RawBuffer, bytes: UnsafeRawBufferPointer) -> Digest {
    guard bytes.count >= Self.minimumBytes, !Self.isBypassed, let base = bytes.baseAddress else {
      return Digest.chunkedSHA256(bytes)
    }
    let key = Key(address: UInt(bitPattern: base), count: bytes.count, kind: buffer.rawKind)
    if let digest = state.withLock({ state -> Digest? in
      guard state.entries[key] != nil else { return nil }
      state.clock += 1
      state.entries[key]!.lastUse = state.clock
      return state.entries[key]!.digest
    }) {
      return digest
    }
    let digest = Digest.chunkedSHA256(bytes)
    guard bytes.count <= budget else { return digest }
    state.withLock { state in
      state.clock += 1
      if state.entries[key] == nil { state.bytes += bytes.count }
      state.entries[key] = Entry(owner: buffer, digest: digest, lastUse: state.clock)
      while state.bytes > budget,
        let oldest = state.entries.min(by: { $0.value.lastUse < $1.value.lastUse })
      {
        state.entries[oldest.key] = nil
        state.bytes -= oldest.key.count
      }
    }
    return digest
  }

  /// How many buffers the cache keeps (for tests).
  var count: Int { state.withLock { $0.entries.count } }
}
