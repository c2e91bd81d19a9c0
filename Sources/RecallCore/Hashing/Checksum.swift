/// XXH64, a fast non-cryptographic checksum (several times SHA-256's speed),
/// used to check stored values on load, and the records of calls that name
/// them.
///
/// A value's content id is the SHA-256 of its canonical form; recomputing it
/// to check a large file would cost more than the rest of the load (scenario
/// E). Each blob file's XXH64 is recorded with its value's
/// row when it is written, and checked instead: it catches the damage a file
/// suffers (flipped bits, a torn or truncated write) with probability
/// 1 − 2⁻⁶⁴. Values recorded before the checksum existed are still checked by
/// their content id. Inline values (in the database) have one too: a flipped
/// byte in a database file is caught as surely as in a blob file.
package enum Checksum {
  /// The checksum of a call's record: what a lookup of the call serves (its
  /// id, its output's content id and history id), so that damage to the row
  /// that links a call to its output (a flipped byte in an integer that
  /// names the value's row) is caught, not served as another value.
  package static func call(_ id: CallID, output cid: ContentID, history hid: HistoryID) -> UInt64 {
    // A digest's words hold its 32 bytes in order: the tuple is the 96 bytes.
    let fields = (id.digest, cid.digest, hid.digest)
    return withUnsafeBytes(of: fields) { xxh64($0) }
  }

  private static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
  private static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
  private static let prime3: UInt64 = 0x1656_67B1_9E37_79F9
  private static let prime4: UInt64 = 0x85EB_CA77_C2B2_AE63
  private static let prime5: UInt64 = 0x27D4_EB2F_1656_67C5

  /// The XXH64 of `bytes`.
  package static func xxh64(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
    let count = bytes.count
    guard let base = bytes.baseAddress else {
      return finish(seed &+ prime5, base: nil, offset: 0, end: 0)
    }
    var offset = 0
    var hash: UInt64
    if count >= 32 {
      var lane1 = seed &+ prime1 &+ prime2
      var lane2 = seed &+ prime2
      var lane3 = seed
      var lane4 = seed &- prime1
      let stripes = count - 31
      while offset < stripes {
        lane1 = round(lane1, word(base, offset))
        lane2 = round(lane2, word(base, offset + 8))
        lane3 = round(lane3, word(base, offset + 16))
        lane4 = round(lane4, word(base, offset + 24))
        offset += 32
      }
      hash = rotate(lane1, 1) &+ rotate(lane2, 7) &+ rotate(lane3, 12) &+ rotate(lane4, 18)
      for lane in [lane1, lane2, lane3, lane4] {
        hash = (hash ^ round(0, lane)) &* prime1 &+ prime4
      }
    } else {
      hash = seed &+ prime5
    }
    return finish(hash &+ UInt64(count), base: base, offset: offset, end: count)
  }

  /// The XXH64 of an array's bytes.
  package static func xxh64(_ bytes: [UInt8]) -> UInt64 {
    bytes.withUnsafeBytes { xxh64($0) }
  }

  /// Mixes in the last (fewer than 32) bytes and avalanches.
  private static func finish(_ start: UInt64, base: UnsafeRawPointer?, offset: Int, end: Int)
    -> UInt64
  {
    var hash = start
    var offset = offset
    if let base {
      while offset + 8 <= end {
        hash = rotate(hash ^ round(0, word(base, offset)), 27) &* prime1 &+ prime4
        offset += 8
      }
      if offset + 4 <= end {
        let half = UInt64(
          UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        hash = rotate(hash ^ (half &* prime1), 23) &* prime2 &+ prime3
        offset += 4
      }
      while offset < end {
        hash =
          rotate(hash ^ (UInt64(base.load(fromByteOffset: offset, as: UInt8.self)) &* prime5), 11)
          &* prime1
        offset += 1
      }
    }
    hash ^= hash >> 33
    hash = hash &* prime2
    hash ^= hash >> 29
    hash = hash &* prime3
    hash ^= hash >> 32
    return hash
  }

  @inline(__always)
  private static func word(_ base: UnsafeRawPointer, _ offset: Int) -> UInt64 {
    UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
  }

  @inline(__always)
  private static func round(_ accumulator: UInt64, _ input: UInt64) -> UInt64 {
    rotate(accumulator &+ input &* prime2, 31) &* prime1
  }

  @inline(__always)
  private static func rotate(_ value: UInt64, _ bits: UInt64) -> UInt64 {
    (value << bits) | (value >> (64 - bits))
  }
}
