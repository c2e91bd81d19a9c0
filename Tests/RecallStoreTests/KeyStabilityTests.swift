import Foundation
import RecallStoreTestSupport
import RecallTestSupport
import Testing

@testable import RecallCore

/// The keys, content ids and history ids of single-output calls, pinned: a
/// store written by any earlier Recall keeps serving its results only while
/// these stay as they are. (Recorded before structured values; a change here
/// needs a migration, not a new constant.)
@Suite struct KeyStabilityTests {
  struct Config: Codable, Sendable {
    var name: String
    var rate: Double
    var layers: [Int]
  }

  /// What a call of `op` recorded: its key, its inputs' content ids, and
  /// its output's content and history ids.
  func recorded(_ store: Store, _ op: String) throws -> [String] {
    let call = try #require(try store.calls(of: OpID(op)).first)
    return [
      call.id.hex, call.inputs.sorted { $0.name < $1.name }.map(\.cid.hex).joined(separator: ","),
      call.outputCID.hex, call.outputHID.hex,
    ]
  }

  /// Three ops: a number, a large array and a number, a struct; computed
  /// with plain values, or with lazy ones (which key and store alike).
  func run(_ store: Store, lazy: Bool) {
    let version = CodeFingerprint(hex: "a1")
    let values = (0..<1_000).map(Double.init)
    if lazy {
      let _: Lazy<Int> = store.memoize(
        Op(id: "Golden.square(x:)", version: version), [Argument("x", Lazy(3))]
      ) { Lazy(9) }
      let _: Lazy<[Double]> = store.memoize(
        Op(id: "Golden.scale(_:by:)", version: version),
        [Argument("values", Lazy(values)), Argument("factor", 0.5)]
      ) { Lazy(values.map { $0 * 0.5 }) }
    } else {
      _ = store.memoize(Op(id: "Golden.square(x:)", version: version), [Argument("x", 3)]) { 9 }
      _ = store.memoize(
        Op(id: "Golden.scale(_:by:)", version: version),
        [Argument("values", values), Argument("factor", 0.5)]
      ) { values.map { $0 * 0.5 } }
    }
    _ = store.memoize(
      Op(id: "Golden.describe(_:)", version: version),
      [Argument("config", Config(name: "mlp", rate: 0.01, layers: [64, 32]))]
    ) { "mlp 0.01 [64, 32]" }
    store.flush()
  }

  static let expected: [String: [String]] = [
    "Golden.square(x:)": [
      "212027329d840653e02b6874f1dd7f49eb6a495883aef020000fa78c4907e237",
      "b1245dea2b84ac35f45f69e1dc506b0068ce9ce185228655343598386126e941",
      "98b607a7e08e770406d2e5a430f31bd8e2836b784121dff7a342a96652d1f7e5",
      "d6e8daa9ebbf1ead1fd7b88c929a1feb3208646972acad176974ad11c4d257e6",
    ],
    "Golden.scale(_:by:)": [
      "0633dc5b9e7f5703594e38ad97f5409d8e24bfb1dcafed27a451dd1f8be9aa0b",
      "527eac87fe45ffda22bb7b88b6c259f71ad2e6c88c7fa37ff82124a2cbccd76b,"
        + "fdc35f546a651e7166d7f65f9e07f96b5c8b8351ed8a2e372427090445c32444",
      "0170f47f72111d0123a63908dea86b2d7dcc218d00577d80df1fe208a4a57517",
      "340e571139650960af27f2525a05149a2e78c6be7740427eea59fb0a3bb7c0a3",
    ],
    "Golden.describe(_:)": [
      "b2fafa808cfe56d7b0d4f061856193acae76956d0f041663dd07c4a72dd12c95",
      "8ac94ab714ed7a92ad751e60b30d5eaf3eb5a7c4d8d66e74e886bc9fada332bd",
      "a214f4c1d28148e9db91141a01b637ad51fea661291080d335c54bd404adb4c8",
      "0e55eef72fd1de50b7afdbe5a0a84b6d0c35f0bee8c2e63fd291836f81fe3073",
    ],
  ]

  /// A call keyed by a named value's reference (what a store written with
  /// `Named` holds).
  @Test func referencesKeepTheirKeys() throws {
    let store = Store.inMemory()
    _ = store.memoize(
      Op(id: "Golden.fit(_:)", version: CodeFingerprint(hex: "a1")),
      [Argument("data", Named("mnist-train", version: "2024-05", [1.0, 2.0]))]
    ) { 3.0 }
    store.flush()
    #expect(try recorded(store, "Golden.fit(_:)") == Self.expectedReference)
  }

  static let expectedReference = [
    "10292cda3ed4ef29cb486a798b5d9ca5712218eccd5c7e1db0c28483682ff725",
    "5a6b9e2e9121756247d14a8b050efeef224b1f53526ec5083fc592df8e670aba",
    "c2fe32bdd18fff8a1ce98a019b4bf44cb4365842a7358f799f321b34942d2ebe",
    "66502568cea6539077f80ed903780d2a87860ac65f31d419611da5814575d5a2",
  ]

  @Test(arguments: [false, true]) func singleOutputCallsKeepTheirKeysAndIds(lazy: Bool) throws {
    let store = Store.inMemory()
    run(store, lazy: lazy)
    for (op, ids) in Self.expected {
      #expect(try recorded(store, op) == ids, "\(op)")
    }
  }
}
