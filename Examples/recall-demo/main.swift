// recall-demo: a small, real experiment in which every step is memoized.
//
// It synthesizes a classification data set, splits it, trains a softmax
// regression model for every point of a hyperparameter grid, and evaluates each
// model. The first run computes everything (several seconds); the second run
// executes nothing and prints the same results at once. Extend the grid and only
// the new points run; edit `train` and only training and evaluation rerun.
//
//   swift run recall-demo            # uses ./.recall, or $RECALL_STORE

import Foundation
import Recall

// MARK: - Data

/// A labelled data set: `rows` samples of `columns` features, row-major.
struct Dataset: Codable, Sendable {
  var features: [Double]
  var labels: [Int]
  var rows: Int
  var columns: Int
  var classes: Int
}

/// A deterministic random number generator (SplitMix64), so that a seed always
/// gives the same data set.
struct SeededGenerator: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func gaussian() -> Double {
    let u = Double.random(in: Double.ulpOfOne..<1, using: &self)
    let v = Double.random(in: 0..<1, using: &self)
    return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
  }
}

/// Gaussian blobs: one centre per class, samples scattered around it.
@Memoized
func makeDataset(seed: Int, samples: Int, columns: Int, classes: Int) -> Dataset {
  var rng = SeededGenerator(state: UInt64(seed))
  let centres = (0..<classes).map { _ in (0..<columns).map { _ in rng.gaussian() * 1.5 } }
  var features: [Double] = []
  features.reserveCapacity(samples * columns)
  var labels: [Int] = []
  for _ in 0..<samples {
    let label = Int(rng.next() % UInt64(classes))
    labels.append(label)
    for j in 0..<columns { features.append(centres[label][j] + rng.gaussian() * 2.0) }
  }
  return Dataset(
    features: features, labels: labels, rows: samples, columns: columns, classes: classes)
}

/// A train/test split.
struct Split: Codable, Sendable {
  var train: Dataset
  var test: Dataset
}

/// Splits a data set, the last `testFraction` of the rows for testing.
@Memoized
func split(_ data: Dataset, testFraction: Double) -> Split {
  let testRows = Int(Double(data.rows) * testFraction)
  let trainRows = data.rows - testRows
  func part(_ range: Range<Int>) -> Dataset {
    Dataset(
      features: Array(
        data.features[(range.lowerBound * data.columns)..<(range.upperBound * data.columns)]),
      labels: Array(data.labels[range]), rows: range.count, columns: data.columns,
      classes: data.classes)
  }
  return Split(train: part(0..<trainRows), test: part(trainRows..<data.rows))
}

// MARK: - Model

/// Softmax regression: one weight row (plus bias) per class.
struct Model: Codable, Sendable {
  var weights: [Double]  // classes × (columns + 1)
  var columns: Int
  var classes: Int

  func scores(_ data: Dataset, row: Int) -> [Double] {
    (0..<classes).map { c in
      let base = c * (columns + 1)
      var z = weights[base + columns]
      for j in 0..<columns { z += weights[base + j] * data.features[row * columns + j] }
      return z
    }
  }
}

/// Trains by full-batch gradient descent on the cross-entropy loss with L2
/// regularization.
@Memoized
func train(_ split: Split, learningRate: Double, l2: Double, epochs: Int) -> Model {
  let data = split.train
  var model = Model(
    weights: [Double](repeating: 0, count: data.classes * (data.columns + 1)),
    columns: data.columns, classes: data.classes)
  let width = data.columns + 1
  for _ in 0..<epochs {
    var gradient = [Double](repeating: 0, count: model.weights.count)
    for row in 0..<data.rows {
      let scores = model.scores(data, row: row)
      let top = scores.max()!
      let exps = scores.map { exp($0 - top) }
      let total = exps.reduce(0, +)
      for c in 0..<data.classes {
        let error = exps[c] / total - (data.labels[row] == c ? 1 : 0)
        for j in 0..<data.columns {
          gradient[c * width + j] += error * data.features[row * data.columns + j]
        }
        gradient[c * width + data.columns] += error
      }
    }
    for i in model.weights.indices {
      model.weights[i] -= learningRate * (gradient[i] / Double(data.rows) + l2 * model.weights[i])
    }
  }
  return model
}

/// The fraction of test rows whose highest-scoring class is their label.
@Memoized
func accuracy(_ model: Model, on split: Split) -> Double {
  let data = split.test
  var correct = 0
  for row in 0..<data.rows {
    let scores = model.scores(data, row: row)
    if scores.indices.max(by: { scores[$0] < scores[$1] }) == data.labels[row] { correct += 1 }
  }
  return Double(correct) / Double(data.rows)
}

// MARK: - The experiment

func format(_ duration: Duration) -> String {
  let seconds =
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
  return seconds < 1
    ? String(format: "%6.1f ms", seconds * 1000) : String(format: "%6.2f s ", seconds)
}

let store: Store
do {
  store = try Store.default
} catch {
  FileHandle.standardError.write(Data("recall-demo: \(error)\n".utf8))
  exit(1)
}

// One line per call, from the store's event stream.
let token = store.observe { event in
  switch event {
  case .didExecute(let call, let duration):
    print("  executed  \(format(duration))        \(call.op.name)")
  case .didReuse(let call, _, let saved):
    print("  reused    \(format(saved)) saved  \(call.op.name)")
  default:
    break
  }
}

print("recall-demo: store at \(Store.defaultPath)")
let started = ContinuousClock.now
let parts = store.activate {
  split(makeDataset(seed: 42, samples: 1_500, columns: 16, classes: 4), testFraction: 0.25)
}

/// One point of the hyperparameter grid.
struct GridPoint: Sendable {
  var learningRate: Double
  var l2: Double
  var epochs: Int
}

let grid = [0.05, 0.2, 0.5].flatMap { learningRate in
  [0.0, 0.01].flatMap { l2 in
    [40, 80].map { GridPoint(learningRate: learningRate, l2: l2, epochs: $0) }
  }
}
// Two points at a time; stop it with Ctrl-C and run it again: it resumes.
_ = try await store.map(grid, parallelism: 2, progress: .lines) { point in
  let model = train(parts, learningRate: point.learningRate, l2: point.l2, epochs: point.epochs)
  return accuracy(model, on: parts)
}
let elapsed = ContinuousClock.now - started
token.cancel()

// The grid from the store: one row per history that ends in an accuracy.
let table = try ComputationFrame(op: "recall_demo.accuracy(_:on:)", currentOnly: true, in: store)
  .expandBack().table()
print("")
print(
  table.selecting(["seed", "testFraction", "learningRate", "l2", "epochs", "accuracy"])
    .sorted(by: ["learningRate", "l2", "epochs"]).markdown)
let accuracies = try table.column("accuracy", as: Double.self).map { $0 ?? 0 }
let best = accuracies.indices.max { accuracies[$0] < accuracies[$1] }!
let rates = try table.column("learningRate", as: Double.self)
let l2s = try table.column("l2", as: Double.self)
let epochs = try table.column("epochs", as: Int.self)
print(
  String(
    format: "  best: learning rate %.2f, l2 %.2f, %d epochs: %.3f", rates[best]!, l2s[best]!,
    epochs[best]!,
    accuracies[best]))

print("\n\(try store.stats())")
print("wall time: \(format(elapsed).trimmingCharacters(in: .whitespaces))")
