// A random-walk sweep: the package the Getting started article builds.
//
// Every walk and its summary is memoized. Run it twice: the second run
// computes nothing. Edit `summarize` and only the summaries are computed
// again; edit `step` or `stepSize` and the walks are too.

import Foundation
import Recall

/// How far one step may go, either way.
let stepSize = 1.0

/// One step: a draw from the call's random source.
func step(_ random: inout RandomSource) -> Double {
  random.nextDouble(in: -stepSize..<stepSize)
}

/// The positions of a walk of `steps` steps from 0. Its draws come from
/// `RandomSource.current`, so each trial is a different walk, and the same
/// walk in every run.
@Memoized
func walk(steps: Int) -> [Double] {
  var random = RandomSource.current
  var position = 0.0
  return (0..<steps).map { _ in
    position += step(&random)
    return position
  }
}

/// How far a walk got.
struct Summary: Codable, Sendable {
  var farthest: Double
  var end: Double
}

@Memoized
func summarize(_ path: [Double]) -> Summary {
  Summary(farthest: path.map(abs).max() ?? 0, end: path.last ?? 0)
}

let store = try Store.default
// Every call that runs, as it runs. Events come while the token is kept: here,
// until `cancel()` at the end.
let token = store.observe { event in
  if case .willExecute = event { print(event) }
}

let lengths = [100, 1_000, 10_000]
let summaries = try await store.map(lengths) { steps in
  (0..<3).map { trial in withTrial(trial) { summarize(walk(steps: steps)) } }
}
token.cancel()

for (steps, trials) in zip(lengths, summaries) {
  let farthest = trials.map { String(format: "%.1f", $0.farthest) }.joined(separator: ", ")
  print("\(steps) steps: farthest \(farthest)")
}
print(try store.stats())
