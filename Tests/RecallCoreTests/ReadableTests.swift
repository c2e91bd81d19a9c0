import Testing

@testable import RecallCore

/// What people read: the store's summary line and the numbers in it.
@Suite struct ReadableTests {
  @Test func statsReadAsOneLine() {
    let stats = StoreStats(
      calls: 52, values: 40, bytes: 1_572_864, hits: 26, memoryHits: 14, misses: 12,
      timeSaved: .milliseconds(3_410), computeTime: .milliseconds(1_200))
    #expect(
      stats.description
        == "executed: 12, reused: 26 (14 from memory), time saved: 3.41 s, compute time: 1.20 s; "
        + "store: 52 calls, 40 values, 1.5 MiB")
  }

  @Test(arguments: [
    (0.000_85, "850 µs"), (0.0125, "12.5 ms"), (3.414, "3.41 s"), (0, "0 µs"),
  ])
  func durations(_ seconds: Double, _ text: String) {
    #expect(Readable.duration(seconds) == text)
  }

  @Test(arguments: [(512, "512 B"), (1_536, "1.5 KiB"), (39_006_208, "37.2 MiB")])
  func sizes(_ bytes: Int, _ text: String) {
    #expect(Readable.size(bytes) == text)
  }
}
