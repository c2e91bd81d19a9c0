// recall-demo: a small, real experiment in which every step is memoized.
//
// It synthesizes a classification data set, splits it, trains a softmax
// regression model for every point of a hyperparameter grid, three times with
// different random initial weights and minibatch orders (three trials), and
// evaluates each model. The first run computes everything (about a second);
// the second run executes nothing and prints the same results at once. Extend
// the grid or the trials and only the new ones run; edit `train` and only
// training and evaluation rerun.
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

/// Gaussian blobs: one centre per class, samples scattered around it. The
/// data set's randomness comes from its `seed` argument (a source of its own),
/// so it is computed once and shared by every trial.
@Memoized
func makeDataset(seed: Int, samples: Int, columns: Int, classes: Int) -> Dataset {
  var random = RandomSource(seed: seed)
  let centres = (0..<classes).map { _ in (0..<columns).map { _ in random.nextGaussian() * 1.5 } }
  var features: [Double] = []
  features.reserveCapacity(samples * columns)
  var labels: [Int] = []
  for _ in 0..<samples {
    let label = random.nextInt(below: classes)
    labels.append(label)
    for j in 0..<columns { features.append(centres[label][j] + random.nextGaussian() * 2.0) }
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

/// Trains by minibatch gradient descent on the cross-entropy loss with L2
/// regularization. The initial weights and the order of the rows in each
/// epoch are drawn from the call's random source: each trial trains a model
/// of its own, and the same trial always trains the same model.
@Memoized
func train(_ split: Split, learningRate: Double, l2: Double, epochs: Int) -> Model {
  var random = RandomSource.current
  let data = split.train
  var model = Model(
    weights: (0..<data.classes * (data.columns + 1)).map { _ in random.nextGaussian() * 0.5 },
    columns: data.columns, classes: data.classes)
  let width = data.columns + 1
  let batchSize = 64
  var order = Array(0..<data.rows)
  for _ in 0..<epochs {
    // Fisher–Yates with the source's own bounded draws.
    for i in stride(from: order.count - 1, to: 0, by: -1) {
      order.swapAt(i, random.nextInt(below: i + 1))
    }
    for start in stride(from: 0, to: data.rows, by: batchSize) {
      let batch = order[start..<min(start + batchSize, data.rows)]
      var gradient = [Double](repeating: 0, count: model.weights.count)
      for row in batch {
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
        model.weights[i] -=
          learningRate * (gradient[i] / Double(batch.count) + l2 * model.weights[i])
      }
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

/// The trial a call's result belongs to, when it is a trial's own.
func trial(_ call: CallReference) -> String {
  call.trial == 0 ? "" : " (trial \(call.trial))"
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
    print("  executed  \(format(duration))        \(call.op.name)\(trial(call))")
  case .didReuse(let call, _, let saved):
    print("  reused    \(format(saved)) saved  \(call.op.name)\(trial(call))")
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

let grid = [0.02, 0.1, 0.5].flatMap { learningRate in
  [0.0, 0.01].flatMap { l2 in
    [3, 6].map { GridPoint(learningRate: learningRate, l2: l2, epochs: $0) }
  }
}
let trials = 3
// Every point in every trial, two at a time; stop it with Ctrl-C and run it
// again: it resumes. The data set and its split are shared by every trial.
let runs = grid.flatMap { point in (0..<trials).map { (point, $0) } }
_ = try await store.map(runs, parallelism: 2, progress: .lines) { point, trial in
  withTrial(trial) {
    let model = train(parts, learningRate: point.learningRate, l2: point.l2, epochs: point.epochs)
    return accuracy(model, on: parts)
  }
}
let elapsed = ContinuousClock.now - started
token.cancel()

// The grid from the store: one row per history that ends in an accuracy, a
// trial column first.
let table = try ComputationFrame(op: "recall_demo.accuracy(_:on:)", currentOnly: true, in: store)
  .expandBack().table()
let rates = try table.column("learningRate", as: Double.self)
let l2s = try table.column("l2", as: Double.self)
let epochs = try table.column("epochs", as: Int.self)
let accuracies = try table.column("accuracy", as: Double.self)

// Mean ± standard deviation over the trials, per grid point.
struct Summary {
  var point: GridPoint
  var mean: Double
  var deviation: Double
  var count: Int
}
let summaries = grid.map { point in
  let values = accuracies.indices.filter {
    rates[$0] == point.learningRate && l2s[$0] == point.l2 && epochs[$0] == point.epochs
  }.compactMap { accuracies[$0] }
  let mean = values.reduce(0, +) / Double(max(values.count, 1))
  let variance =
    values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(values.count - 1, 1))
  return Summary(point: point, mean: mean, deviation: variance.squareRoot(), count: values.count)
}
print("")
print("| learningRate | l2 | epochs | accuracy (mean ± sd) | trials |")
print("|---|---|---|---|---|")
for summary in summaries {
  print(
    String(
      format: "| %.2f | %.2f | %d | %.3f ± %.3f | %d |", summary.point.learningRate,
      summary.point.l2, summary.point.epochs, summary.mean, summary.deviation, summary.count))
}
let best = summaries.max { $0.mean < $1.mean }!
print(
  String(
    format: "\n  best: learning rate %.2f, l2 %.2f, %d epochs: %.3f ± %.3f over %d trials",
    best.point.learningRate, best.point.l2, best.point.epochs, best.mean, best.deviation,
    best.count))

print("\n\(try store.stats())")
print("wall time: \(format(elapsed).trimmingCharacters(in: .whitespaces))")
print("explore the results in a browser: swift run recall serve --store \(Store.defaultPath)")
