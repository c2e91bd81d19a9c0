import Foundation
import RecallTestSupport
import Synchronization
import Testing

@testable import RecallCore

/// How a sweep reports its progress.
@Suite struct SweepStatusTests {
  @Test func theStatusLineShowsCountsRateAndTimeLeft() {
    var status = SweepStatus(total: 100)
    status.computed = 10
    status.cached = 30
    status.failed = 2
    status.running = 4
    status.elapsed = .seconds(20)
    status.computeElapsed = .seconds(20)
    // 2 s per computed input, 58 left.
    #expect(
      status.line(barWidth: 10)
        == "[####------]  42/100  computed 10 · cached 30 · running 4 · failed 2  2.1/s  ETA 1m56s")
    status.cached = 88
    status.failed = 0
    status.running = 0
    status.elapsed = .seconds(3725)
    #expect(status.line() == "98/100  computed 10 · cached 88 · running 0  0.0/s  ETA 4s")
    status.cached = 90
    #expect(status.line() == "100/100  computed 10 · cached 90 · running 0  0.0/s  in 1h02m")
  }
}
