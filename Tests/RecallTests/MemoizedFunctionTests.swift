import Foundation
import Recall
import Testing

@Suite struct MemoizedFunctionTests {
  @Test func topLevelFunctionsRunOncePerDistinctCall() {
    let store = quietStore()
    let log = EventLog(store)
    store.activate {
      #expect(add(1, to: 2) == 3)
      #expect(add(1, to: 2) == 3)
      #expect(add(2, to: 1) == 3)
    }
    #expect(log.executed == ["add(_:to:)", "add(_:to:)"])
    #expect(log.reused.count == 1)
  }

  @Test func theStoragePolicyOfAnOpIsAnArgumentOfTheMacro() throws {
    let store = quietStore()
    let log = EventLog(store)
    store.activate {
      #expect(tokens("a b") == ["a", "b"])
      #expect(tokens("a b") == ["a", "b"])
      #expect(quickSum([1, 2]) == 3)
      #expect(quickSum([1, 2]) == 3)
    }
    // Memory only: reused in the process; too quick to store: run each time.
    #expect(log.executed == ["tokens(_:)", "quickSum(_:)", "quickSum(_:)"])
    let reasons = log.all.compactMap {
      if case .didNotStore(let call, let reason) = $0 {
        "\(call.op.labelName): \(reason)"
      } else {
        nil
      }
    }
    #expect(reasons.count == 3)
    #expect(reasons.first == "RecallTests.tokens(_:): kept in memory only")
    #expect(reasons.dropFirst().allSatisfy { $0.contains("under the minimum of 1.00 s") })
    store.flush()
    #expect(try store.calls(of: "RecallTests.tokens(_:)").isEmpty)
  }

  @Test func aCallCanBeAskedForReadSeededAndRecomputedWithoutRunningIt() throws {
    let store = quietStore()
    let log = EventLog(store)
    // Not stored yet: asking runs nothing.
    #expect(try $add(40, to: 2).isStored(in: store) == false)
    #expect(try $add(40, to: 2).storedResult(in: store) == nil)
    #expect(log.executed.isEmpty)
    store.activate { #expect(add(40, to: 2) == 42) }
    #expect(try $add(40, to: 2).isStored(in: store))
    #expect(try $add(40, to: 2).storedResult(in: store) == 42)
    #expect(try $add(2, to: 40).isStored(in: store) == false, "another call")
    // A result computed elsewhere: stored, then served without running.
    try $add(1, to: 1).store(3, computedIn: .seconds(2), in: store)
    store.activate { #expect(add(1, to: 1) == 3) }
    #expect(log.executed == ["add(_:to:)"])
    // Recomputed on demand: the body runs and its result replaces the seed.
    store.activate { #expect(Memoization.recomputing { add(1, to: 1) } == 2) }
    store.activate { #expect(add(1, to: 1) == 2) }
    #expect(log.executed == ["add(_:to:)", "add(_:to:)"])
    // Methods have companions too, with `self` in the key.
    let line = Polynomial(coefficients: [1, 2])
    store.activate { #expect(line.evaluate(at: 3) == 7) }
    #expect(try line.$evaluate(at: 3).storedResult(in: store) == 7)
    #expect(try Polynomial(coefficients: [2, 2]).$evaluate(at: 3).isStored(in: store) == false)
    store.activate { _ = Polynomial.line(slope: 1, intercept: 0) }
    #expect(try Polynomial.$line(slope: 1, intercept: 0).isStored(in: store))
    #expect(try Polynomial.$line(slope: 2, intercept: 0).isStored(in: store) == false)
    #expect(line.$evaluate(at: 3).op.id.labelName == "RecallTests.Polynomial.evaluate(at:)")
  }

  @Test func aPipelineOfLazyResultsIsReTracedWithoutReadingThem() throws {
    let directory = TemporaryDirectory()
    let run = { (store: Store) throws -> Lazy<[Double]> in
      try store.activate {
        var signal = Lazy([Double](repeating: 8, count: 1_000))
        for pass in 0..<5 { signal = try smooth(signal, pass: pass) }
        return signal
      }
    }
    let first = try run(try openStore(directory.path, inlineThreshold: 1024))
    let store = try openStore(directory.path, inlineThreshold: 1024)
    let log = EventLog(store)
    let again = try run(store)
    #expect(log.executed.isEmpty)
    #expect(!again.isLoaded)
    #expect(try again.value == first.value)
  }

  @Test func aTupleResultStoresEachElementAsAnOutput() throws {
    let directory = TemporaryDirectory()
    let run = { (store: Store) throws -> (scaled: [Double], peak: Double, energy: Double) in
      // `normalize` returns a tuple: each element is stored as an output.
      try store.activate {
        let normalized = try normalize([1, -4, 2])
        return (normalized.scaled, normalized.peak, energy(normalized.scaled))
      }
    }
    let first = try run(try openStore(directory.path))
    #expect(first.scaled == [0.25, -1, 0.5] && first.peak == 4 && first.energy == 1.3125)
    let store = try openStore(directory.path)
    let log = EventLog(store)
    let again = try run(store)
    #expect(log.executed.isEmpty)
    #expect(again.scaled == first.scaled && again.peak == first.peak)
    #expect(again.energy == first.energy)
    // Each element is an output of its own, and `energy` took `scaled`.
    let normalizeCall = try #require(try store.calls(of: "RecallTests.normalize(_:)").first)
    #expect(try store.outputs(of: normalizeCall.outputCID).map(\.label) == ["peak", "scaled"])
    let energyCall = try #require(try store.calls(of: "RecallTests.energy(_:)").first)
    #expect(energyCall.inputs[0].hid == HistoryID(output: "scaled", of: normalizeCall.outputHID))
    #expect(try store.upstream(of: energyCall.id).map(\.id) == [normalizeCall.id])
    // The companion names the call; its stored result holds the outputs.
    let stored = try #require(try $normalize([1, -4, 2]).storedResult(in: store))
    #expect(stored.__recallTuple == (first.scaled, first.peak))
    // A body that throws stores nothing.
    store.activate {
      #expect(throws: ParseError.self) { try normalize([0, 0]) }
      #expect(throws: ParseError.self) { try normalize([0, 0]) }
    }
    #expect(log.executed == ["normalize(_:)", "normalize(_:)"])
  }

  @Test func privateFunctionsAndAsynchronousMethodsReturnTuplesOfOutputs() async throws {
    let store = quietStore()
    let log = EventLog(store)
    for _ in 0..<2 {
      let (low, high) = store.activate { boundsOf([3, -1, 2]) }
      #expect(low == -1 && high == 3)
      let shifted = try await store.activate { try await Shift(offset: 1).shifted([1, 2]) }
      #expect(shifted.values == [2, 3] && shifted.count == 2)
    }
    #expect(store.activate { Scale(factor: 2).applied([1, 2]).total } == 6)
    #expect(store.activate { Scale(factor: 2).halved([1, 2]).halves } == [0.5, 1])
    #expect(
      log.executed == ["bounds(_:)", "Shift.shifted(_:)", "Scale.applied(_:)", "Scale.halved(_:)"])
    let call = try #require(try store.calls(of: "RecallTests.Shift.shifted(_:)").first)
    #expect(try store.outputs(of: call.outputCID).map(\.label) == ["count", "values"])
    // A function returning a tuple is refreshed with its companion, as any.
    _ = try store.activate { try normalize([2, 4]) }
    let refreshed = try await store.refresh(
      [.op(normalize, $normalize), .op(energy, $energy)], progress: .none)
    #expect(refreshed.recomputed == 0 && refreshed.skipped.isEmpty)
  }

  @Test func defaultArgumentsAreArgumentsLikeAnyOther() {
    let store = quietStore()
    let log = EventLog(store)
    store.activate {
      #expect(greet(name: "Ada") == "Hello, Ada!")
      #expect(greet(name: "Ada", punctuation: "!") == "Hello, Ada!")
      #expect(greet(name: "Ada", punctuation: "?") == "Hello, Ada?")
    }
    #expect(log.executed == ["greet(name:punctuation:)", "greet(name:punctuation:)"])
  }

  @Test func throwingFunctionsStoreNothingWhenTheyThrow() throws {
    let store = quietStore()
    let log = EventLog(store)
    try store.activate {
      #expect(throws: ParseError(input: "x")) { try parse("x") }
      #expect(throws: ParseError(input: "x")) { try parse("x") }
      let first = try parse("12")
      let second = try parse("12")
      #expect(first == 12 && second == 12)
    }
    #expect(log.executed == ["parse(_:)", "parse(_:)", "parse(_:)"])
  }

  @Test func typedThrowsKeepTheirErrorType() {
    let store = quietStore()
    store.activate {
      do throws(ParseError) {
        _ = try parseTyped("nope")
        Issue.record("expected an error")
      } catch {
        let typed: ParseError = error  // compiles only if the error is typed
        #expect(typed.input == "nope")
      }
      #expect((try? parseTyped("5")) == 5)
    }
  }

  @Test func asyncFunctions() async throws {
    let store = quietStore()
    let log = EventLog(store)
    try await store.activate {
      #expect(await slowDouble(21) == 42)
      #expect(await slowDouble(21) == 42)
      let first = try await fetch("a")
      let second = try await fetch("a")
      #expect(first == ["a", "A"] && second == first)
      await #expect(throws: ParseError.self) { try await fetch("") }
    }
    #expect(log.executed == ["slowDouble(_:)", "fetch(_:)", "fetch(_:)"])
  }

  @Test func concurrentCallsOfOneAsyncFunctionRunOnce() async {
    let store = quietStore()
    let log = EventLog(store)
    await store.activate {
      await withTaskGroup(of: Int.self) { group in
        for _ in 0..<10 { group.addTask { await slowDouble(5) } }
        for await value in group { #expect(value == 10) }
      }
    }
    #expect(log.executed == ["slowDouble(_:)"])
  }

  @Test func genericTypeArgumentsEnterTheKey() {
    let store = quietStore()
    let log = EventLog(store)
    store.activate {
      let ints: [Int] = zeros(count: 3)
      let doubles: [Double] = zeros(count: 3)
      let intsAgain: [Int] = zeros(count: 3)
      #expect(ints == [0, 0, 0])
      #expect(doubles == [0, 0, 0])
      #expect(intsAgain == ints)
    }
    #expect(log.executed.count == 2)
  }

  @Test func ignoredArgumentsAreLeftOutOfTheKey() {
    let store = quietStore()
    let log = EventLog(store)
    store.activate {
      #expect(scaled([1, 2], by: 2, verbose: false) == [2, 4])
      #expect(scaled([1, 2], by: 2, verbose: true) == [2, 4])
      #expect(scaled([1, 2], by: 3, verbose: false) == [3, 6])
    }
    #expect(log.executed.count == 2)
  }

  @Test func methodsTakeSelfAsAnInput() {
    let store = quietStore()
    let log = EventLog(store)
    store.activate {
      let square = Polynomial(coefficients: [0, 0, 1])
      let cube = Polynomial(coefficients: [0, 0, 0, 1])
      #expect(square.evaluate(at: 3) == 9)
      #expect(square.evaluate(at: 3) == 9)
      #expect(cube.evaluate(at: 3) == 27)
      #expect(Polynomial.line(slope: 2, intercept: 1) == Polynomial(coefficients: [1, 2]))
      #expect(Polynomial.line(slope: 2, intercept: 1) == Polynomial(coefficients: [1, 2]))
      #expect(Box(items: [1, 2, 3]).count() == 3)
      #expect(Box(items: ["a"]).count() == 1)
      #expect(Tracker.label(4) == "#4")
    }
    #expect(
      log.executed == [
        "Polynomial.evaluate(at:)", "Polynomial.evaluate(at:)", "Polynomial.line(slope:intercept:)",
        "Box.count()", "Box.count()", "Tracker.label(_:)",
      ])
  }

  @Test func disabledTurnsMemoizationOff() {
    let store = quietStore()
    let log = EventLog(store)
    store.activate {
      Memoization.disabled {
        _ = add(5, to: 5)
        _ = add(5, to: 5)
      }
      _ = add(5, to: 5)
    }
    #expect(log.executed == ["add(_:to:)"])
    #expect(log.reused.isEmpty)
  }

  @Test func memoizedBlocks() throws {
    let store = quietStore()
    let log = EventLog(store)
    let runs = [3.0, 4.0, 5.0]
    let threshold = 3.5
    func summarize() -> Int {
      #memoized("count-above", runs, threshold) {
        runs.filter { $0 > threshold }.count
      }
    }
    store.activate {
      #expect(summarize() == 2)
      #expect(summarize() == 2)
    }
    #expect(log.executed == ["count-above"])
  }

  @Test func memoizedAsyncBlocks() async throws {
    let store = quietStore()
    let log = EventLog(store)
    let key = "k"
    try await store.activate {
      for _ in 0..<2 {
        let value = try await #memoized("fetch-block", key) {
          try await fetch(key)
        }
        #expect(value == ["k", "K"])
      }
    }
    #expect(log.executed == ["fetch-block", "fetch(_:)"])
  }

  @Test func synchronousBlocksInAsyncCode() async {
    let store = quietStore()
    let log = EventLog(store)
    let key = "abc"
    await store.activate {
      for _ in 0..<2 {
        let count = #memoized("sync-in-async", key) { key.count }
        #expect(count == 3)
        await Task.yield()
      }
    }
    #expect(log.executed == ["sync-in-async"])
  }

  @Test func statsCountHitsMissesAndTimeSaved() throws {
    let store = quietStore()
    try store.activate {
      for _ in 0..<3 { _ = try parse("7") }
    }
    let stats = try store.stats()
    #expect(stats.misses == 1)
    #expect(stats.hits == 2)
    #expect(stats.memoryHits == 2)
    #expect(stats.calls == 1)
    #expect(stats.bytes > 0)
  }

  @Test func opVersionsComeFromTheCodeFingerprint() throws {
    // This target has no build plugin: an op's version is its own code
    // fingerprint, with `@Memoized(version:)` mixed in on top.
    let store = quietStore()
    let log = EventLog(store)
    store.activate {
      _ = versioned(1)
      _ = versionedBefore(1)
    }
    #expect(log.executed == ["versioned(_:)", "versionedBefore(_:)"])
    func recorded(_ name: OpID) throws -> (version: CodeFingerprint, components: [CodeComponent]) {
      let version = try #require(try store.versions(of: name).first).version
      return (
        version,
        try #require(try store.backend.components(of: store.op(named: name), version: version))
      )
    }
    let plain = try recorded("RecallTests.versionedBefore(_:)")
    #expect(plain.components.map(\.identity) == ["func versionedBefore(_:)"])
    #expect(plain.version.hex == plain.components[0].fingerprint)
    let bumped = try recorded("RecallTests.versioned(_:)")
    #expect(
      bumped.components.map(\.identity).sorted() == ["@Memoized(version:)", "func versioned(_:)"])
    let own = try #require(bumped.components.first { $0.identity == "func versioned(_:)" })
    #expect(bumped.version.hex != own.fingerprint)
    #expect(own.source.hasPrefix("@Memoized(version: \"2\")"))
  }

  @Test func openParameterTypesEnterTheKey() {
    let store = quietStore()
    let log = EventLog(store)
    store.activate {
      // Equal encodings, different types.
      #expect(describe(Data([1, 2])) == "Data")
      #expect(describe([UInt8]([1, 2])) == "Array<UInt8>")
      #expect(describeAny(Data([1, 2])) == "Data")
      #expect(describeAny([UInt8]([1, 2])) == "Array<UInt8>")
      #expect(describe(Data([1, 2])) == "Data")
    }
    #expect(log.executed.count == 4)
  }

  @Test func blocksInGenericFunctionsKeyTheTypeParameters() {
    let store = quietStore()
    let log = EventLog(store)
    store.activate {
      #expect(zerosBlock(Int.self, count: 2) == [0, 0])
      #expect(zerosBlock(Double.self, count: 2) == [0.0, 0.0])
      #expect(zerosBlock(Int.self, count: 2) == [0, 0])
    }
    #expect(log.executed == ["zeros-block", "zeros-block"])
  }
}
