import Foundation
import RecallStoreTestSupport
import RecallTestSupport
import Testing

@testable import RecallCore
@testable import RecallSQLite

/// mandala's example: load data, train for a grid, score each model.
struct Grid {
  let store: Store
  let load = Op(id: "Lab.load(seed:)", version: CodeFingerprint(hex: "l"))
  let train = Op(id: "Lab.train(_:rate:)", version: CodeFingerprint(hex: "t"))
  let accuracy = Op(id: "Lab.accuracy(_:on:)", version: CodeFingerprint(hex: "a"))

  func run(rates: [Double]) {
    let data = store.memoize(load, [Argument("seed", 7)]) { [1.0, 2.0, 3.0] }
    for rate in rates {
      let model = store.memoize(train, [Argument("data", data), Argument("rate", rate)]) {
        data.map { $0 * rate }
      }
      _ = store.memoize(accuracy, [Argument("model", model), Argument("data", data)]) {
        model.reduce(0, +) / data.reduce(0, +)
      }
    }
  }
}

@Suite struct ComputationFrameTests {
  @Test(arguments: Backend.allCases) func theJointTableHasARowPerPointOfTheGrid(_ kind: Backend)
    throws
  {
    let backend = try Reopenable(kind)
    let grid = Grid(store: backend.open())
    grid.run(rates: [0.1, 0.5, 0.9])

    let table = try ComputationFrame(op: "Lab.accuracy(_:on:)", in: grid.store).expandBack().table()
    #expect(table.columns == ["seed", "load", "rate", "train", "accuracy"])
    #expect(table.cids.count == 3)
    #expect(try Set(table.column("rate", as: Double.self).compactMap { $0 }) == [0.1, 0.5, 0.9])
    #expect(try table.column("seed", as: Int.self) == [7, 7, 7])
    let pairs = try zip(
      table.column("rate", as: Double.self), table.column("accuracy", as: Double.self))
    for (rate, accuracy) in pairs { #expect(abs(rate! - accuracy!) < 1e-12) }

    #expect(
      table.markdown.hasPrefix(
        "| seed | load | rate | train | accuracy |\n|---|---|---|---|---|\n| 7 | [1.0,2.0,3.0] |"))
    #expect(table.csv.hasPrefix("seed,load,rate,train,accuracy\n7,\"[1.0,2.0,3.0]\","))
    // Sorted numerically (10 after 9), descending by turning the order around.
    grid.run(rates: [10, 2])
    let more = try ComputationFrame(op: "Lab.accuracy(_:on:)", in: grid.store).expandBack().table()
    #expect(
      try more.sorted(by: ["rate"]).column("rate", as: Double.self) == [0.1, 0.5, 0.9, 2, 10])
    #expect(
      try more.sorted(by: ["seed", "nonexistent", "rate"]).column("rate", as: Double.self).last
        == 10)
    let json = try JSONSerialization.jsonObject(with: Data(table.json.utf8)) as? [[String: Any]]
    #expect(json?.count == 3)
    #expect(json?.first?["seed"] as? Int == 7)
  }

  @Test(arguments: Backend.allCases) func aTableOfTrialsHasATrialColumn(_ kind: Backend) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let grid = Grid(store: store)
    // Training draws its initial weight: one model per trial and rate; the
    // data set is shared by every trial.
    let noisyTrain = Op(id: "Lab.train(_:rate:)", version: CodeFingerprint(hex: "t2"))
    let data = store.memoize(grid.load, [Argument("seed", 7)]) { [1.0, 2.0, 3.0] }
    for trial in 0..<3 {
      for rate in [0.1, 0.5] {
        withTrial(trial) {
          let model = store.memoize(noisyTrain, [Argument("data", data), Argument("rate", rate)]) {
            var random = RandomSource.current
            let start = random.nextDouble()
            return data.map { $0 * rate + start }
          }
          _ = store.memoize(grid.accuracy, [Argument("model", model), Argument("data", data)]) {
            model.reduce(0, +)
          }
        }
      }
    }
    let table = try ComputationFrame(op: "Lab.accuracy(_:on:)", in: store).expandBack().table()
    #expect(table.columns == ["trial", "seed", "load", "rate", "train", "accuracy"])
    #expect(table.cids.count == 6)
    let trials = try table.column("trial", as: Int.self).compactMap { $0 }
    #expect(trials.sorted() == [0, 0, 1, 1, 2, 2])
    #expect(Set(try table.column("seed", as: Int.self)) == [7])
    let sorted = table.sorted(by: ["trial", "rate"])
    #expect(try sorted.column("trial", as: Int.self) == [0, 0, 1, 1, 2, 2])
    #expect(sorted.csv.hasPrefix("trial,seed,load,rate,train,accuracy\n0,7,"))
    #expect(try table.selecting(["rate", "trial"]).column("trial", as: Int.self).count == 6)

    // Without trials other than 0, no trial column.
    let other = try Reopenable(kind)
    let plain = Grid(store: other.open())
    plain.run(rates: [0.1])
    #expect(
      try ComputationFrame(op: "Lab.accuracy(_:on:)", in: plain.store).expandBack().table()
        .columns.first == "seed")
  }

  @Test(arguments: Backend.allCases) func aCurrentFrameStaysCurrentWhenItGrows(_ kind: Backend)
    throws
  {
    let place = try Reopenable(kind)
    let store = place.open()
    let grid = Grid(store: store)
    grid.run(rates: [0.1, 0.5])
    // A new version of `accuracy` scores the same models again: the first
    // version's two calls are stale.
    let accuracy2 = Op(id: "Lab.accuracy(_:on:)", version: CodeFingerprint(hex: "a2"))
    let data = store.memoize(grid.load, [Argument("seed", 7)]) { [1.0, 2.0, 3.0] }
    for rate in [0.1, 0.5] {
      let model = store.memoize(grid.train, [Argument("data", data), Argument("rate", rate)]) {
        data.map { $0 * rate }
      }
      _ = store.memoize(accuracy2, [Argument("model", model), Argument("data", data)]) {
        model.reduce(0, +) / data.reduce(0, +) + 1
      }
    }
    let grown = try ComputationFrame(op: "Lab.load(seed:)", currentOnly: true, in: store)
      .expandForward()
    #expect(grown.calls.count == 7, "forward expansion brings the stale calls back")
    let current = try grown.currentOnly()
    #expect(current.calls.count == 5)
    #expect(
      current.calls.values.filter { $0.op == "Lab.accuracy(_:on:)" }.allSatisfy {
        $0.opVersion.hex == "a2"
      })
    #expect(try current.table().cids.count == 2)

    // The versions, and which are stale, side by side.
    let versions = try grown.table(showingVersions: true)
    #expect(
      versions.columns == [
        "seed", "load", "load.version", "rate", "train", "train.version", "accuracy",
        "accuracy.version",
      ])
    let shown = try versions.column("accuracy.version", as: String.self).compactMap { $0 }
    #expect(shown.sorted() == ["a (stale)", "a (stale)", "a2", "a2"])
    #expect(try versions.column("train.version", as: String.self).allSatisfy { $0 == "t" })
  }

  @Test(arguments: Backend.allCases) func aColumnOfStructsSplitsIntoItsFields(_ kind: Backend)
    throws
  {
    struct Metrics: Codable, Sendable {
      var accuracy: Double
      var loss: Double
    }
    let place = try Reopenable(kind)
    let store = place.open()
    let evaluate = Op(id: "Lab.evaluate(rate:)", version: CodeFingerprint(hex: "e"))
    for rate in [0.1, 0.5] {
      _ = store.memoize(evaluate, [Argument("rate", rate)]) {
        Metrics(accuracy: 1 - rate, loss: rate * 2)
      }
    }
    let table = try ComputationFrame(op: "Lab.evaluate(rate:)", in: store).table()
    let split = try table.splittingFields(of: "evaluate")
    #expect(split.columns == ["rate", "evaluate.accuracy", "evaluate.loss"])
    let rows = try zip(
      split.column("rate", as: Double.self), split.column("evaluate.loss", as: Double.self)
    ).map { ($0!, $1!) }
    #expect(rows.allSatisfy { rate, loss in loss == rate * 2 } && rows.count == 2)
    #expect(
      split.sorted(by: ["evaluate.accuracy"]).csv.hasPrefix(
        "rate,evaluate.accuracy,evaluate.loss\n0.5,0.5,1.0\n"))
    // A column without structs stays as it is; an unknown one is an error.
    #expect(try table.splittingFields(of: "rate").columns == table.columns)
    expectError(RecallError.notFound) { try table.splittingFields(of: "nope") }
  }

  @Test(arguments: Backend.allCases) func framesGrowNarrowAndCombine(_ kind: Backend) throws {
    let backend = try Reopenable(kind)
    let grid = Grid(store: backend.open())
    grid.run(rates: [0.1, 0.5])
    let store = grid.store

    let loads = try ComputationFrame(op: "Lab.load(seed:)", in: store)
    #expect(loads.calls.count == 1)
    let forward = try loads.expandForward()
    #expect(forward.ops == ["Lab.accuracy(_:on:)", "Lab.load(seed:)", "Lab.train(_:rate:)"])
    #expect(forward.calls.count == 5)
    #expect(try loads.expandForward(recursively: false).calls.count == 5)  // accuracy uses data too
    #expect(try loads.expand().calls.count == 5)

    let half = try forward.filter("Lab.train(_:rate:)", input: "rate", equals: 0.5)
    #expect(half.calls.count == 4)
    #expect(try half.table().cids.count == 2)  // the accuracy of 0.1 now lacks its model
    #expect(forward.intersection(half).calls.count == 4)
    #expect(half.union(forward).calls.count == 5)

    let models = try store.calls(of: "Lab.train(_:rate:)").map(\.outputCID)
    #expect(try ComputationFrame(values: models, in: store).ops == ["Lab.train(_:rate:)"])

    let dot = forward.dot()
    #expect(dot.hasPrefix("digraph ComputationFrame {"))
    #expect(
      dot.contains(#""op Lab.train(_:rate:)" [shape=box, style=rounded, label="train\n2 calls"];"#))
    #expect(dot.contains(#""value Lab.load(seed:)" -> "op Lab.train(_:rate:)" [label="data"];"#))
    // Links and stale marks, as the viewer draws them.
    let stale = try #require(forward.calls.values.first { $0.op == "Lab.train(_:rate:)" }).id
    let marked = forward.dot(links: ["Lab.train(_:rate:)": "/op?name=train"], stale: [stale])
    #expect(
      marked.contains(
        ##""op Lab.train(_:rate:)" [shape=box, style="rounded,filled", fillcolor="#fde3c0", label="train\n2 calls\n1 stale", URL="/op?name=train", target="_top"];"##
      ))
    #expect(dot.contains(#""input Lab.train(_:rate:).rate" -> "op Lab.train(_:rate:)";"#))
    if ComputationFrame.graphviz() == nil {
      expectError(RecallError.missingTool) { try forward.svg() }
    } else {
      #expect(try forward.svg().contains("<svg"))
    }
  }
}
