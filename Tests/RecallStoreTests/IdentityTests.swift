import Foundation
import RecallSQLite
import RecallStoreTestSupport
import RecallTestSupport
import Synchronization
import Testing

@testable import RecallCore

/// Custom identities (``CustomContentIdentity``) and named external values
/// (``Named``), on every backend.
@Suite struct IdentityTests {
  /// How often a `Checkpoint` was encoded (hashing by content encodes it),
  /// by path: test cases run at once use paths of their own.
  static let encodings = Mutex<[String: Int]>([:])

  /// A large value identified by where it was loaded from, with a cache
  /// inside that its encoding would show.
  struct Checkpoint: Codable, Sendable, CustomContentIdentity {
    var path: String
    var step: Int
    var weights: [Double]
    var cache: [String: Double] = [:]

    static var identityScheme: String { "tests.checkpoint.v1" }

    func contentIdentity(into hasher: inout ContentHasher) {
      hasher.combine(path)
      hasher.combine(step)
    }

    var identityLabel: String? { "\(path)#\(step)" }

    func encode(to encoder: any Encoder) throws {
      IdentityTests.encodings.withLock { $0[path, default: 0] += 1 }
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(path, forKey: .path)
      try container.encode(step, forKey: .step)
      try container.encode(weights, forKey: .weights)
      try container.encode(cache, forKey: .cache)
    }
  }

  func evaluate(_ store: Store, _ checkpoint: Checkpoint, split: String) -> Double {
    store.memoize(
      testOp("Tests.evaluate(_:split:)"),
      [Argument("checkpoint", checkpoint), Argument("split", split)]
    ) { checkpoint.weights.reduce(0, +) + Double(split.count) }
  }

  @Test(arguments: Backend.allCases) func aValueWithItsOwnIdentityIsKeyedByItNeverEncoded(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    let path = "runs/\(kind).ckpt"
    var checkpoint = Checkpoint(path: path, step: 100, weights: [1, 2, 3])
    #expect(evaluate(store, checkpoint, split: "test") == 10)
    // The cache inside changed, the identity did not: the same call.
    checkpoint.cache["warm"] = 1
    #expect(evaluate(store, checkpoint, split: "test") == 10)
    #expect(log.executed == ["evaluate(_:split:)"])
    // Another step is another identity.
    #expect(
      evaluate(store, Checkpoint(path: path, step: 200, weights: [1]), split: "test") == 5)
    #expect(log.executed.count == 2)
    #expect(Self.encodings.withLock { $0[path] } == nil, "never encoded to be hashed")
    // Recorded: a reference that names the scheme, the type and the label,
    // in a fresh process too; the value itself is not stored.
    store.flush()
    let later = place.open()
    let laterLog = EventLog(later)
    #expect(evaluate(later, checkpoint, split: "test") == 10)
    #expect(laterLog.executed.isEmpty)
    let calls = try later.calls(of: "Tests.evaluate(_:split:)")
    #expect(calls.count == 2)
    let references = try calls.map { call in
      let input = try #require(call.inputs.first { $0.name == "checkpoint" })
      #expect(input.hid == HistoryID(external: input.cid), "a history of its own")
      return try #require(try later.value(input.cid, as: IdentityReference.self))
    }
    #expect(Set(references.map(\.scheme)) == ["tests.checkpoint.v1"])
    #expect(Set(references.compactMap(\.label)) == ["\(path)#100", "\(path)#200"])
    #expect(references.allSatisfy { $0.type.hasSuffix("Checkpoint") })
    #expect(throws: DecodingError.self) {
      try later.value(calls[0].inputs.first { $0.name == "checkpoint" }!.cid, as: Checkpoint.self)
    }
  }

  @Test func anIdentityIsItsSchemeTypeAndFieldsNotTheValue() throws {
    let checkpoint = Checkpoint(path: "p", step: 1, weights: [])
    let byIdentity = try checkpoint.hashedIdentity().cid
    #expect(byIdentity != (try ValueCodec.contentID(of: checkpoint)))
    #expect(byIdentity == (try Checkpoint(path: "p", step: 1, weights: [9]).hashedIdentity().cid))
    // The scheme is part of it.
    struct Other: Codable, Sendable, CustomContentIdentity {
      static var identityScheme: String { "tests.other.v1" }
      func contentIdentity(into hasher: inout ContentHasher) {
        hasher.combine("p")
        hasher.combine(1)
      }
    }
    #expect(try Other().hashedIdentity().cid != byIdentity)
    // Fields are framed: ("ab", "c") is not ("a", "bc").
    var first = ContentHasher()
    first.combine("ab")
    first.combine("c")
    var second = ContentHasher()
    second.combine("a")
    second.combine("bc")
    #expect(first.builder.finalize() != second.builder.finalize())
  }

  func fit(_ store: Store, _ data: Named<[Double]>, epochs: Int) -> Double {
    store.memoize(
      testOp("Tests.fit(_:epochs:)"), [Argument("data", data), Argument("epochs", epochs)]
    ) { data.value.reduce(0, +) * Double(epochs) }
  }

  @Test(arguments: Backend.allCases) func aNamedValueIsKeyedByItsNameAndVersion(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    let data = Named("mnist-train", version: "2024-05", [1.0, 2.0, 3.0])
    #expect(fit(store, data, epochs: 2) == 12)
    // Other content under the same name and version is not looked at (the
    // promise `register` checks): the same call.
    #expect(fit(store, Named("mnist-train", version: "2024-05", [9.0]), epochs: 2) == 12)
    #expect(log.executed == ["fit(_:epochs:)"])
    // A new version is a new input; the content is not looked at.
    #expect(fit(store, Named("mnist-train", version: "2024-06", [1.0, 2.0, 3.0]), epochs: 2) == 12)
    #expect(log.executed.count == 2)
    store.flush()
    // Provenance shows the name.
    let labels = try store.calls(of: "Tests.fit(_:epochs:)").compactMap { call in
      try store.value(call.inputs.first { $0.name == "data" }!.cid, as: IdentityReference.self)?
        .label
    }
    #expect(Set(labels) == ["mnist-train@2024-05", "mnist-train@2024-06"])
    // And so do the tools, which render stored values.
    let rendered = try store.calls(of: "Tests.fit(_:epochs:)").map { call in
      try ValueCodec.renderJSON(
        #require(try store.backend.value(call.inputs.first { $0.name == "data" }!.cid)))
    }
    #expect(rendered.contains("\"mnist-train@2024-05 (recall.named.v1)\""))
  }

  @Test func queriesAndAddedParametersKeyAValueByItsIdentityAsCallsDo() throws {
    let store = try Reopenable(.memory).open()
    let data = Named("mnist-train", version: "2024-05", [1.0, 2.0])
    _ = fit(store, data, epochs: 1)
    _ = fit(store, Named("mnist-train", version: "2024-06", [1.0, 2.0]), epochs: 1)
    store.flush()
    // Found by the value, as the call keyed it.
    let found = try store.calls(of: "Tests.fit(_:epochs:)", inputs: ["data": data])
    #expect(found.count == 1)
    let frame = try ComputationFrame(calls: store.calls(of: "Tests.fit(_:epochs:)"), in: store)
      .filter("Tests.fit(_:epochs:)", input: "data", equals: data)
    #expect(frame.calls.keys.sorted() == found.map(\.id))
    // A parameter added with a named default: at its default, the call made
    // before it existed.
    let log = EventLog(store)
    let train = testOp("Tests.train(epochs:)")
    _ = store.memoize(train, [Argument("epochs", 1)]) { 1 }
    let again = store.memoize(
      train, [Argument("epochs", 1), Argument(added: "data", data, default: data)]
    ) { 2 }
    #expect(again == 1)
    #expect(log.executed == ["train(epochs:)"])
  }

  @Test(arguments: Backend.allCases) func changingWhatANameAndVersionPointToIsRefused(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let data = Named("mnist-train", version: "2024-05", [1.0, 2.0, 3.0])
    let cid = try store.register(data)
    #expect(cid == (try ValueCodec.contentID(of: [1.0, 2.0, 3.0])))
    // The same content again: nothing to say, in another process too.
    #expect(try place.open().register(data) == cid)
    // Other content under the same name and version: refused, and the record
    // is unchanged.
    let changed = Named("mnist-train", version: "2024-05", [1.0, 2.0, 4.0])
    let error = #expect(throws: RecallError.self) { try place.open().register(changed) }
    #expect(error?.code == RecallError.invalidValue)
    #expect(
      error?.message.contains("mnist-train@2024-05 was registered with other content") == true)
    #expect(error?.message.contains("new version") == true)
    let tag = try #require(try store.tagged("recall.named/mnist-train@2024-05"))
    #expect(tag.target == .value(cid))
    // A new version registers.
    #expect(try store.register(Named("mnist-train", version: "2024-06", [1.0, 2.0, 4.0])) != cid)
    // Names and versions are escaped: these two are different pairs.
    try store.register(Named("a@b", version: "c", [1.0]))
    try store.register(Named("a", version: "b@c", [2.0]))
  }

  @Test(arguments: Backend.shared) func ofRegistrationsMadeAtOnceOneIsRefused(_ kind: Backend)
    throws
  {
    let place = try Reopenable(kind)
    // Eight stores, each with a backend (a connection) of its own, as eight
    // processes have, register the same name and version with content of
    // their own: one records it, seven are refused.
    let stores: [Store] = try (0..<8).map { _ in
      switch kind {
      case .memory: place.open()
      case .sqlite: Store(backend: try SQLiteBackend(path: place.directory.path))
      case .postgres: Store(backend: try place.schema.open())
      case .postgresBlobs: Store(backend: try place.schema.open(blobs: place.directory))
      }
    }
    let refused = Mutex(0)
    DispatchQueue.concurrentPerform(iterations: 8) { index in
      let store = stores[index]
      do {
        try store.register(Named("sweep-data", version: "1", [Double(index)]))
      } catch {
        refused.withLock { $0 += 1 }
      }
    }
    #expect(refused.withLock { $0 } == 7)
  }

  @Test(arguments: Backend.allCases) func aCopyCarriesRegistrationsAndRefusesAConflict(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let source = place.open()
    _ = fit(source, Named("set", version: "1", [1.0]), epochs: 1)
    try source.register(Named("set", version: "1", [1.0]))
    source.flush()
    // Into a store that has none: the calls and the registration.
    let target = try Reopenable(.memory).open()
    let report = try source.copy(to: target)
    #expect(report.calls == 1 && report.registrations == 1)
    #expect(throws: RecallError.self) { try target.register(Named("set", version: "1", [2.0])) }
    // Into a store that registered the same name and version otherwise:
    // refused, and nothing copied.
    let other = try Reopenable(.memory).open()
    try other.register(Named("set", version: "1", [2.0]))
    let error = #expect(throws: RecallError.self) { try source.copy(to: other) }
    #expect(error?.message.contains("registered set@1 with other content") == true)
    #expect(try other.calls(of: "Tests.fit(_:epochs:)").isEmpty)
    withExtendedLifetime(place) {}
  }

  @Test(arguments: Backend.allCases) func aRegistrationKeepsNothingFromGarbageCollection(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    // The data set is a stored result too; its registration names its cid.
    let load = testOp("Tests.load()")
    let data: [Double] = store.memoize(load, []) { [5, 6, 7] }
    let cid = try store.register(Named("set", version: "1", data))
    store.flush()
    #expect(try store.value(cid, as: [Double].self) == data)
    let call = try #require(try store.calls(of: "Tests.load()").first)
    _ = try store.forget([call.id])
    _ = try store.collectGarbage(keepingFilesNewerThan: Date.distantPast)
    #expect(try store.value(cid, as: [Double].self) == nil, "collected")
    #expect(try store.tagged("recall.named/set@1")?.target == .value(cid), "still registered")
  }

  /// Refresh replays a call from its stored inputs: one with its own
  /// identity has none, so the call stays outdated until the program calls
  /// the function again.
  @Test func refreshLeavesACallWhoseInputHasItsOwnIdentityOutdated() async throws {
    let place = try Reopenable(.memory)
    let store = place.open()
    let op = { @Sendable (version: String) in
      Op(id: "Tests.score(_:)", version: CodeFingerprint(hex: version), parameters: ["checkpoint"])
    }
    let score = { @Sendable (version: String, checkpoint: Checkpoint) in
      store.memoize(op(version), [Argument("checkpoint", checkpoint)]) { Double(checkpoint.step) }
    }
    _ = score("a1", Checkpoint(path: "runs/a.ckpt", step: 3, weights: []))
    store.flush()
    // A new version: the stored call is outdated, and cannot be replayed.
    let log = EventLog(store)
    let report = try await store.refresh(
      [
        .op(
          { score("a2", $0) },
          { MemoizedCall(op: op("a2"), arguments: [Argument("checkpoint", $0)]) })
      ], progress: .none)
    #expect(log.executed.isEmpty)
    #expect(report.recomputed == 0)
    #expect(
      report.unidentified["Tests.score(_:)"]
        == "its input 'checkpoint' is recorded by its identity (runs/a.ckpt#3), not its value: "
        + "run the program to compute its calls")
    #expect(
      try store.outdated(current: CodeVersions(ops: [op("a2")])).count == 1,
      "still outdated")
    // The program computes it.
    #expect(score("a2", Checkpoint(path: "runs/a.ckpt", step: 3, weights: [])) == 3)
    #expect(log.executed == ["score(_:)"])
    #expect(try store.outdated(current: CodeVersions(ops: [op("a2")])).count == 0)
  }
}
