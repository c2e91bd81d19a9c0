import RecallCore

/// How the SQLite store keeps a call's key fields (``CallRecord/keyFields``):
/// mostly its inputs' names and cids, which `call_input` holds already.
///
/// The fields are a run of length-prefixed byte strings (an 8-byte
/// little-endian length, then the bytes). The stored form starts with a byte
/// saying which form follows:
/// - `0`: the fields as they are (calls stored before this form existed);
/// - `1`: each field as a LEB128 number `n`: an even `n` is followed by
///   `n / 2` bytes; an odd `n` stands for the cid of the call's input number
///   `(n - 1) / 2`, inputs in name order.
///
/// A call with one input keeps 4 bytes instead of 49.
enum StoredKeyFields {
  /// The cids of a call's inputs, in the order the stored form refers to
  /// them: by name, byte by byte.
  static func order(_ inputs: [(name: String, cid: Digest)]) -> [Digest] {
    inputs.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }.map(\.cid)
  }

  /// The cids of a call's inputs, in ``order(_:)``.
  static func order(_ inputs: [CallInput]) -> [Digest] {
    order(inputs.map { ($0.name, $0.cid.digest) })
  }

  /// The stored form of `fields`, for a call whose inputs' cids are `inputs`
  /// (in ``order(_:)``).
  static func compact(_ fields: [UInt8], inputs: [Digest]) -> [UInt8] {
    let cids = inputs.map { $0.withUnsafeBytes { [UInt8]($0) } }
    var stored: [UInt8] = [1]
    var offset = 0
    while offset < fields.count {
      guard let (start, end) = KeyFields.field(in: fields, at: offset) else { return [0] + fields }
      let bytes = fields[start..<end]
      if bytes.count == 32, let input = cids.firstIndex(where: { $0.elementsEqual(bytes) }) {
        appendNumber(2 * input + 1, to: &stored)
      } else {
        appendNumber(2 * bytes.count, to: &stored)
        stored += bytes
      }
      offset = end
    }
    return stored
  }

  /// The fields back from their stored form, or `nil` if it is malformed
  /// (the call is then treated as recorded before its fields were kept).
  static func expand(_ stored: [UInt8], inputs: [Digest]) -> [UInt8]? {
    guard let form = stored.first else { return nil }
    if form == 0 { return Array(stored.dropFirst()) }
    guard form == 1 else { return nil }
    var fields: [UInt8] = []
    var offset = 1
    while offset < stored.count {
      guard let number = readNumber(stored, &offset) else { return nil }
      if number % 2 == 1 {
        guard (number - 1) / 2 < inputs.count else { return nil }
        appendField(inputs[(number - 1) / 2].withUnsafeBytes { Array($0) }, to: &fields)
      } else {
        let count = number / 2
        guard count <= stored.count - offset else { return nil }
        appendField(Array(stored[offset..<offset + count]), to: &fields)
        offset += count
      }
    }
    return fields
  }

  /// The bounds of the field's bytes at `offset` (after its length).
  private static func appendField(_ bytes: [UInt8], to fields: inout [UInt8]) {
    var length = UInt64(bytes.count)
    for _ in 0..<8 {
      fields.append(UInt8(truncatingIfNeeded: length))
      length >>= 8
    }
    fields += bytes
  }

  private static func appendNumber(_ number: Int, to bytes: inout [UInt8]) {
    var number = UInt(number)
    while number >= 0x80 {
      bytes.append(UInt8(truncatingIfNeeded: number) | 0x80)
      number >>= 7
    }
    bytes.append(UInt8(number))
  }

  private static func readNumber(_ bytes: [UInt8], _ offset: inout Int) -> Int? {
    var number = 0
    var shift = 0
    while offset < bytes.count, shift < 56 {
      let byte = bytes[offset]
      offset += 1
      number |= Int(byte & 0x7F) << shift
      if byte < 0x80 { return number }
      shift += 7
    }
    return nil
  }
}
