import Foundation
import Testing

@testable import RecallCore

/// The content id of an array built afresh (no cache entry can describe its
/// buffer): what any array with these elements must hash to.
private func freshID(_ values: [Double]) throws -> ContentID {
  var copy = values
  copy.withUnsafeMutableBufferPointer { _ in }  // a buffer of its own
  return try RawDigestCache.$isBypassed.withValue(true) { try ValueCodec.contentID(of: copy) }
}

@Suite struct RawDigestCacheTests {
  let large = (0..<300_000).map { Double($0) * 0.25 }  // 2.4 MB

  @Test func theSameArrayIsHashedOnceAndStillGivesItsID() throws {
    let cache = RawDigestCache()
    let id = try ValueCodec.contentID(of: large)
    #expect(id == (try freshID(large)))
    let before = cache.count
    _ = large.withUnsafeBytes { cache.digest(of: large, bytes: $0) }
    _ = large.withUnsafeBytes { cache.digest(of: large, bytes: $0) }
    #expect(cache.count == before + 1)
    #expect(try ValueCodec.contentID(of: large) == id)
  }

  @Test func aMutationNeverGetsTheOldDigest() throws {
    var values = large
    let before = try ValueCodec.contentID(of: values)
    // In place, through the array itself: the cache's reference makes it copy.
    values[0] += 1
    #expect(try ValueCodec.contentID(of: values) == (try freshID(values)))
    #expect(try ValueCodec.contentID(of: values) != before)
    // Through its memory.
    let hashed = try ValueCodec.contentID(of: values)
    values.withUnsafeMutableBufferPointer { $0[1] = -1 }
    #expect(try ValueCodec.contentID(of: values) == (try freshID(values)))
    #expect(try ValueCodec.contentID(of: values) != hashed)
    // A copy changed after the original was hashed.
    var copy = large
    copy[299_999] = 0
    #expect(try ValueCodec.contentID(of: copy) == (try freshID(copy)))
    // Appending can grow the buffer in place when it has room.
    var grown = large
    grown.reserveCapacity(400_000)
    let grownBefore = try ValueCodec.contentID(of: grown)
    grown.append(1)
    #expect(try ValueCodec.contentID(of: grown) == (try freshID(grown)))
    #expect(try ValueCodec.contentID(of: grown) != grownBefore)
    // Removing the last element keeps the address but not the count.
    grown.removeLast()
    #expect(try ValueCodec.contentID(of: grown) == grownBefore)
  }

  @Test func theBudgetBoundsWhatTheCacheKeepsAlive() {
    let cache = RawDigestCache(budget: 5 << 20)
    for seed in 0..<10 {
      let values = [Double](repeating: Double(seed), count: 200_000)  // 1.6 MB each
      _ = values.withUnsafeBytes { cache.digest(of: values, bytes: $0) }
    }
    #expect(cache.count == 3)
    // Small buffers are not remembered.
    let small = [Double](repeating: 1, count: 1_000)
    _ = small.withUnsafeBytes { cache.digest(of: small, bytes: $0) }
    #expect(cache.count == 3)
  }
}
