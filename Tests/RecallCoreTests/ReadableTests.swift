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

  @Test func eventsReadAsLines() throws {
    let id = CallID(try #require(Digest(hex: String(repeating: "ab", count: 32))))
    let walk = CallReference(op: "Experiments.walk(steps: Int)", call: id, trial: 0)
    let trial2 = CallReference(op: "Experiments.walk(steps: Int)", call: id, trial: 2)
    let lines = [
      RecallEvent.willExecute(walk),
      .willWait(walk, holder: Claimant(token: "t", host: "gpu-3", pid: 71)),
      .didExecute(trial2, duration: .milliseconds(12.5)),
      .didStore(walk, bytes: 1_536),
      .didReuse(walk, source: .memory, saved: .seconds(3.414)),
      .didReuse(walk, source: .store, saved: .microseconds(850)),
      .didFail(walk, error: "out of range"),
    ].map(\.description)
    #expect(
      lines == [
        "computing Experiments.walk(steps: Int) [abababababab]",
        "waiting for Experiments.walk(steps: Int) [abababababab], which process 71 on gpu-3 is computing",
        "computed Experiments.walk(steps: Int) [abababababab] (trial 2) in 12.5 ms",
        "stored Experiments.walk(steps: Int) [abababababab] (1.5 KiB)",
        "reused Experiments.walk(steps: Int) [abababababab] from memory, saving 3.41 s",
        "reused Experiments.walk(steps: Int) [abababababab] from the store, saving 850 µs",
        "failed Experiments.walk(steps: Int) [abababababab]: out of range",
      ])
  }

  @Test(arguments: [
    (0.000_85, "850 µs"), (0.0125, "12.5 ms"), (3.414, "3.41 s"), (0, "0 µs"),
  ])
  func durations(_ seconds: Double, _ text: String) {
    #expect(Readable.duration(seconds) == text)
  }

  @Test(arguments: [
    (512, "512 B"), (1_536, "1.5 KiB"), (39_006_208, "37.2 MiB"), (21_474_836_480, "20.0 GiB"),
  ])
  func sizes(_ bytes: Int, _ text: String) {
    #expect(Readable.size(bytes) == text)
  }

  @Test(arguments: [
    ("20GB", 20_000_000_000), ("1.5 GiB", 1_610_612_736), ("500M", 524_288_000),
    ("4096", 4096), ("10 kb", 10_000), ("2TiB", 2_199_023_255_552), ("0", 0),
  ])
  func sizesAsPeopleWriteThem(_ text: String, _ bytes: Int) {
    #expect(Readable.size(parsing: text) == bytes)
  }

  @Test(arguments: ["", "GB", "twenty", "20 parsecs", "1.2.3G", "-5GB", "1e30"])
  func sizesThatAreNotSizes(_ text: String) {
    #expect(Readable.size(parsing: text) == nil)
  }
}
