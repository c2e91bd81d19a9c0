import CRecallSHA256
import Dispatch
import RecallCodeTable

#if canImport(CryptoKit)
  // Apple's SHA-256 uses the ARM SHA instructions, which `CRecallSHA256` does
  // not use yet (it has x86-64's); elsewhere `CRecallSHA256` hashes.
  import CryptoKit
#endif

/// A 32-byte SHA-256 digest, stored inline as four words so that it hashes,
/// compares and copies without allocating.
public struct Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
  @usableFromInline var w0, w1, w2, w3: UInt64

  /// Creates a digest from exactly 32 bytes.
  public init?(bytes: some Collection<UInt8>) {
    // Contiguous storage (arrays, Data) in one copy: listing many calls reads
    // several ids per row.
    guard
      let digest = bytes.withContiguousStorageIfAvailable({
        Digest(bytes: UnsafeRawBufferPointer($0))
      }) ?? Digest(bytes: Array(bytes))
    else { return nil }
    self = digest
  }

  /// Creates a digest from exactly 32 bytes in memory (a column SQLite
  /// returns), in one copy.
  public init?(bytes: UnsafeRawBufferPointer) {
    guard bytes.count == 32 else { return nil }
    var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    Swift.withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: bytes) }
    (w0, w1, w2, w3) = words
  }

  /// Hashes the first eight bytes only: a digest's bits are uniform, and
  /// every lookup by id (the memory layer, the history map) hashes one.
  /// Equality still compares all 32.
  public func hash(into hasher: inout Hasher) { hasher.combine(w0) }

  /// A dictionary keyed by digests hashes without `Hasher`: a digest's first
  /// word is already uniform, and no one chooses it (it is SHA-256 of
  /// content). Mixed with the table's seed, so that two tables order their
  /// keys differently. A cached sweep looks several tables up per point
  /// (the memory layer, the history map, the usage ledger), and SipHash was
  /// a twentieth of its time (scenario H).
  public func _rawHashValue(seed: Int) -> Int {
    Int(truncatingIfNeeded: Digest.mix(w0 ^ UInt64(UInt(bitPattern: seed))))
  }

  /// SplitMix64's finalizer: every input bit moves every output bit.
  @inline(__always)
  static func mix(_ word: UInt64) -> UInt64 {
    var x = word
    x = (x ^ (x >> 30)) &* 0xbf58_476d_1ce4_e5b9
    x = (x ^ (x >> 27)) &* 0x94d0_49bb_1331_11eb
    return x ^ (x >> 31)
  }

  /// Creates a digest from its 64-character hexadecimal form.
  public init?(hex: String) {
    let utf8 = Array(hex.utf8)
    guard utf8.count == 64 else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(32)
    var index = 0
    while index < 64 {
      guard let high = Digest.nibble(utf8[index]), let low = Digest.nibble(utf8[index + 1]) else {
        return nil
      }
      bytes.append(high << 4 | low)
      index += 2
    }
    self.init(bytes: bytes)
  }

  /// The digest a C function writes into 32 bytes.
  init(writing body: (UnsafeMutablePointer<UInt8>) -> Void) {
    var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    Swift.withUnsafeMutableBytes(of: &words) { raw in
      body(raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
    }
    (w0, w1, w2, w3) = words
  }

  /// The SHA-256 of some bytes (the processor's SHA instructions where it has
  /// them: `CRecallSHA256`).
  public static func sha256(_ bytes: UnsafeRawBufferPointer) -> Digest {
    #if canImport(CryptoKit)
      let digest = CryptoKit.SHA256.hash(data: bytes)
      return Digest { out in
        digest.withUnsafeBytes {
          UnsafeMutableRawPointer(out).copyMemory(from: $0.baseAddress!, byteCount: 32)
        }
      }
    #else
      return Digest { recall_sha256_hash(bytes.baseAddress, bytes.count, $0) }
    #endif
  }

  /// The size of the pieces ``chunkedSHA256(_:)`` hashes separately: 1 MiB.
  public static let chunkSize = 1 << 20

  /// The SHA-256 of the SHA-256s of the bytes' 1 MiB chunks (the last one may
  /// be shorter), concatenated; the chunks are hashed on all cores.
  ///
  /// Large raw arrays are hashed this way (format version 2), so a large
  /// argument hashes on every core (scenario D). The result depends only on
  /// the bytes, never on how many cores there are.
  public static func chunkedSHA256(_ bytes: UnsafeRawBufferPointer) -> Digest {
    let chunks = max(1, (bytes.count + chunkSize - 1) / chunkSize)
    var digests = [Digest](repeating: Digest(words: (0, 0, 0, 0)), count: chunks)
    digests.withUnsafeMutableBufferPointer { out in
      nonisolated(unsafe) let (out, bytes) = (out, bytes)
      let hashChunk = { @Sendable (index: Int) in
        let start = index * chunkSize
        let end = min(start + chunkSize, bytes.count)
        out[index] = sha256(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
      }
      // Below a few chunks, waking other threads costs more than it saves.
      if chunks >= 4 {
        DispatchQueue.concurrentPerform(iterations: chunks, execute: hashChunk)
      } else {
        for index in 0..<chunks { hashChunk(index) }
      }
    }
    // Each digest's four words are its 32 bytes in order.
    return digests.withUnsafeBytes { sha256($0) }
  }

  private init(words: (UInt64, UInt64, UInt64, UInt64)) {
    (w0, w1, w2, w3) = words
  }

  /// The SHA-256 of some bytes.
  public static func sha256(_ bytes: [UInt8]) -> Digest {
    bytes.withUnsafeBytes { sha256($0) }
  }

  /// The SHA-256 of a string's UTF-8 bytes.
  public static func sha256(_ string: String) -> Digest {
    var string = string
    return string.withUTF8 { sha256(UnsafeRawBufferPointer($0)) }
  }

  /// The 32 bytes of the digest.
  public var bytes: [UInt8] {
    Swift.withUnsafeBytes(of: (w0, w1, w2, w3)) { Array($0) }
  }

  /// Calls `body` with the 32 bytes of the digest, without copying them.
  public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try Swift.withUnsafeBytes(of: (w0, w1, w2, w3), body)
  }

  /// The lowercase hexadecimal form (64 characters).
  public var hex: String { withUnsafeBytes(Hexadecimal.string) }

  public var description: String { hex }

  public static func < (lhs: Digest, rhs: Digest) -> Bool {
    lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
  }

  private static func nibble(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
    default: nil
    }
  }
}

/// Something framed fields are written to: a hash (``DigestBuilder``) or a
/// byte buffer (``FieldRecorder``) that can replay them into a hash later.
///
/// Every field is length-prefixed, so that `("ab", "c")` and `("a", "bc")` never
/// produce the same bytes.
protocol FieldSink {
  /// Writes raw bytes, unframed.
  mutating func write(_ bytes: UnsafeRawBufferPointer)
}

extension FieldSink {
  mutating func add(_ bytes: UnsafeRawBufferPointer) {
    var count = UInt64(bytes.count).littleEndian
    Swift.withUnsafeBytes(of: &count) { write($0) }
    write(bytes)
  }

  mutating func add(_ string: String) {
    var string = string
    string.withUTF8 { add(UnsafeRawBufferPointer($0)) }
  }

  mutating func add(_ digest: Digest) {
    digest.withUnsafeBytes { add($0) }
  }

  mutating func add(_ value: Int) {
    var value = Int64(value).littleEndian
    Swift.withUnsafeBytes(of: &value) { add($0) }
  }
}

/// An incremental SHA-256 computation over framed fields.
struct DigestBuilder: FieldSink, @unchecked Sendable {
  // A value: copying the builder forks the computation (a call key
  // continues from its op's prefix).
  #if canImport(CryptoKit)
    private var hasher = CryptoKit.SHA256()
  #else
    private var context = recall_sha256()
  #endif

  init(domain: StaticString) {
    #if !canImport(CryptoKit)
      recall_sha256_init(&context)
    #endif
    add(domain.withUTF8Buffer { UnsafeRawBufferPointer($0) })
  }

  mutating func write(_ bytes: UnsafeRawBufferPointer) {
    #if canImport(CryptoKit)
      hasher.update(bufferPointer: bytes)
    #else
      recall_sha256_update(&context, bytes.baseAddress, bytes.count)
    #endif
  }

  /// Writes fields recorded by a ``FieldRecorder``.
  mutating func replay(_ fields: [UInt8]) {
    fields.withUnsafeBytes { write($0) }
  }

  func finalize() -> Digest {
    #if canImport(CryptoKit)
      let digest = hasher.finalize()
      return Digest { out in
        digest.withUnsafeBytes {
          UnsafeMutableRawPointer(out).copyMemory(from: $0.baseAddress!, byteCount: 32)
        }
      }
    #else
      var spent = context
      return Digest { recall_sha256_final(&spent, $0) }
    #endif
  }
}

/// Framed fields kept as bytes, to be hashed again later (``DigestBuilder/replay(_:)``).
struct FieldRecorder: FieldSink {
  var bytes: [UInt8] = []

  mutating func write(_ bytes: UnsafeRawBufferPointer) {
    self.bytes.append(contentsOf: bytes)
  }
}
