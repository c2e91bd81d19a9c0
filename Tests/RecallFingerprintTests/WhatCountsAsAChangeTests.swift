import Foundation
import RecallFingerprint
import SwiftParser
import Testing

/// Every way Swift reaches code: an edit of code an op reaches, even without
/// naming it the way a call does, gives the op a new version; where the graph
/// is exact, an edit of code it cannot reach does not.
@Suite struct WhatCountsAsAChangeTests {
  /// Whether replacing `old` (which occurs once in the sources) with `new`
  /// changes the version of `op`.
  func edit(
    _ old: String, _ new: String, in sources: [String], changes op: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> Bool {
    try #require(
      sources.map { $0.components(separatedBy: old).count - 1 }.reduce(0, +) == 1,
      "'\(old)' does not occur exactly once",
      sourceLocation: sourceLocation)
    let edited = sources.map { $0.replacingOccurrences(of: old, with: new) }
    let before = try #require(
      opVersions(sources)[op], "no op \(op)", sourceLocation: sourceLocation)
    let after = try #require(
      opVersions(edited)[op], "no op \(op) after the edit", sourceLocation: sourceLocation)
    return before != after
  }

  func edit(
    _ old: String, _ new: String, in source: String, changes op: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> Bool {
    try edit(old, new, in: [source], changes: op, sourceLocation: sourceLocation)
  }

  func opVersions(_ sources: [String]) -> [String: String] {
    let graph = CallGraph(sources.map { FileSummary(Parser.parse(source: $0)) })
    return Dictionary(uniqueKeysWithValues: graph.opVersions().map { ($0.op, $0.version) })
  }

  // MARK: Implicit calls

  @Test func callingAValueReachesCallAsFunction() throws {
    let source = """
      struct Polynomial {
        var coefficients: [Double]
        func callAsFunction(_ x: Double) -> Double {
          coefficients.reversed().reduce(0) { $0 * x + $1 }
        }
      }
      let square = Polynomial(coefficients: [1, 0, 0])
      func unrelated() -> Int { 1 }

      @Memoized func evaluate(_ p: Polynomial, at x: Double) -> Double { p(x) }
      @Memoized func area(_ x: Double) -> Double { square(x) }
      """
    #expect(try edit("$0 * x + $1", "$0 * x - $1", in: source, changes: "evaluate(_:at:)"))
    #expect(try edit("$0 * x + $1", "$0 * x - $1", in: source, changes: "area(_:)"))
    #expect(try !edit("{ 1 }", "{ 2 }", in: source, changes: "evaluate(_:at:)"))
  }

  @Test func stringInterpolationAndPrintReachDescription() throws {
    let source = """
      struct Temperature: CustomStringConvertible {
        var celsius: Double
        var description: String { "\\(celsius) °C" }
      }
      func unrelated() -> Int { 1 }

      @Memoized func label(_ t: Temperature) -> String { "now \\(t)" }
      @Memoized func logged(_ t: Temperature) -> Int { print(t); return String(describing: t).count }
      """
    #expect(try edit("°C", "℃", in: source, changes: "label(_:)"))
    #expect(try edit("°C", "℃", in: source, changes: "logged(_:)"))
    #expect(try !edit("{ 1 }", "{ 2 }", in: source, changes: "label(_:)"))
  }

  @Test func sortingReachesComparableLessThan() throws {
    let source = """
      struct Score: Comparable {
        var value: Double
        static func < (a: Score, b: Score) -> Bool { a.value < b.value }
      }
      func unrelated() -> Int { 1 }

      @Memoized func ranking(_ scores: [Score]) -> [Score] { scores.sorted() }
      """
    #expect(try edit("a.value < b.value", "a.value > b.value", in: source, changes: "ranking(_:)"))
    #expect(try !edit("{ 1 }", "{ 2 }", in: source, changes: "ranking(_:)"))
  }

  @Test func setsAndDictionariesReachHashAndEquality() throws {
    let source = """
      struct Sample: Hashable {
        var id: Int
        var noise: Double
        static func == (a: Sample, b: Sample) -> Bool { a.id == b.id }
        func hash(into hasher: inout Hasher) { hasher.combine(id) }
      }

      @Memoized func distinct(_ samples: [Sample]) -> Int { Set(samples).count }
      @Memoized func counts(_ samples: [Sample]) -> [Sample: Int] {
        samples.reduce(into: [:]) { $0[$1, default: 0] += 1 }
      }
      """
    for op in ["distinct(_:)", "counts(_:)"] {
      #expect(try edit("hasher.combine(id)", "hasher.combine(noise)", in: source, changes: op))
      #expect(try edit("a.id == b.id", "a.noise == b.noise", in: source, changes: op))
    }
  }

  // MARK: Names

  @Test func typeAliasesAreFollowed() throws {
    let source = """
      typealias Real = Float
      typealias Probability = Double
      extension Probability {
        init(odds: Double) { self = odds / (1 + odds) }
      }

      @Memoized func mean(_ xs: [Int]) -> Real { Real(xs.reduce(0, +)) / Real(xs.count) }
      @Memoized func chance(_ odds: Double) -> Double { Double(odds: odds) }
      """
    #expect(try edit("= Float", "= Double", in: source, changes: "mean(_:)"))
    #expect(try edit("odds / (1 + odds)", "odds / (2 + odds)", in: source, changes: "chance(_:)"))
    #expect(try !edit("= Float", "= Float16", in: source, changes: "chance(_:)"))
  }

  @Test func initializersInExtensionsOfStandardLibraryTypesAreReached() throws {
    let source = """
      extension Double {
        init(percent: Double) { self = percent / 100 }
      }

      @Memoized func rate(_ p: Double) -> Double { Double(percent: p) }
      @Memoized func inferred(_ items: [Int]) -> Int {
        var rate = 0.0
        rate = .init(percent: 50)
        return Int(rate * 10) + items.count
      }
      """
    #expect(try edit("percent / 100", "percent / 1000", in: source, changes: "rate(_:)"))
    #expect(try edit("percent / 100", "percent / 1000", in: source, changes: "inferred(_:)"))
  }

  @Test func subscriptsInExtensionsAreReachedThroughInference() throws {
    let source = """
      extension Array {
        subscript(wrapping index: Int) -> Element { self[(index % count + count) % count] }
      }

      @Memoized func field(_ line: String, _ i: Int) -> Substring {
        line.split(separator: ",")[wrapping: i]
      }
      """
    #expect(
      try edit(
        "(index % count + count) % count", "min(max(index, 0), count - 1)", in: source,
        changes: "field(_:_:)"))
  }

  @Test func backtickedNamesAreTheSameNames() throws {
    let source = """
      enum Presets {
        static var `default`: Double { 0.5 }
      }
      let threshold = 0.1

      @Memoized func keep(_ x: Double) -> Bool { x > Presets.default + `threshold` }
      """
    #expect(try edit("{ 0.5 }", "{ 0.6 }", in: source, changes: "keep(_:)"))
    #expect(try edit("= 0.1", "= 0.2", in: source, changes: "keep(_:)"))
  }

  @Test func computedPropertiesAndStaticMembersAreReachedByName() throws {
    let source = """
      struct Model {
        var weight: Double
        var scaled: Double { weight * 2 }
        static var unit: Double { 1 }
        func normalized() -> Double { weight / Self.unit }
      }
      func unrelated() -> Int { 1 }

      @Memoized func score(_ m: Model) -> Double { m.scaled + m.normalized() }
      """
    #expect(try edit("weight * 2", "weight * 3", in: source, changes: "score(_:)"))
    #expect(try edit("Double { 1 }", "Double { 2 }", in: source, changes: "score(_:)"))
    #expect(try !edit("-> Int { 1 }", "-> Int { 2 }", in: source, changes: "score(_:)"))
  }

  @Test func implicitMemberSyntaxReachesTheEnumAndItsStaticMembers() throws {
    let source = """
      enum Schedule {
        case constant, cosine
        static var fallback: Schedule { .cosine }
      }
      func factor(_ s: Schedule, _ t: Double) -> Double {
        switch s {
        case .constant: 1
        case .cosine: cos(t)
        }
      }
      func unrelated() -> Int { 1 }

      @Memoized func learningRate(_ t: Double) -> Double { factor(.fallback, t) }
      """
    #expect(try edit("{ .cosine }", "{ .constant }", in: source, changes: "learningRate(_:)"))
    #expect(try edit("cos(t)", "cos(2 * t)", in: source, changes: "learningRate(_:)"))
    #expect(try !edit("{ 1 }", "{ 2 }", in: source, changes: "learningRate(_:)"))
  }

  // MARK: Protocols, generics, classes

  @Test func existentialsAndGenericsReachEveryConformance() throws {
    let source = """
      protocol Shape { var area: Double { get } }
      protocol Solid: Shape {}
      struct Square: Shape, CustomStringConvertible {
        var side: Double
        var area: Double { side * side }
        var description: String { "square \\(side)" }
      }
      struct Cube: Solid, CustomStringConvertible {
        var side: Double
        var area: Double { 6 * side * side }
        var description: String { "cube \\(side)" }
      }
      struct Tag: Hashable, CustomStringConvertible { var description: String { "tag" } }
      struct Unrelated { var x = 1 }

      @Memoized func total(_ shapes: [any Shape]) -> Double { shapes.map(\\.area).reduce(0, +) }
      @Memoized func report(_ shapes: [any Shape]) -> String { "\\(shapes)" }
      @Memoized func largest<S: Shape>(_ shapes: [S]) -> String { String(describing: shapes.first) }
      @Memoized func show<T: CustomStringConvertible>(_ value: T) -> String { "\\(value)" }
      @Memoized func same<T: Equatable>(_ value: T) -> String { "\\(value)" }
      """
    #expect(try edit("{ side * side }", "{ side * side * 2 }", in: source, changes: "total(_:)"))
    for op in ["report(_:)", "largest(_:)", "show(_:)"] {
      #expect(try edit("\"square", "\"Square", in: source, changes: op))
      #expect(try edit("\"cube", "\"Cube", in: source, changes: op))
      #expect(try !edit("var x = 1", "var x = 2", in: source, changes: op))
    }
    // Through a refinement: a `Hashable` type is `Equatable`.
    #expect(try edit("\"tag\"", "\"Tag\"", in: source, changes: "same(_:)"))
  }

  @Test func subclassesAreReachedThroughTheirBaseClass() throws {
    let source = """
      class Layer {
        func forward(_ x: Double) -> Double { x }
      }
      final class Dropout: Layer, CustomStringConvertible {
        override func forward(_ x: Double) -> Double { x * 0.5 }
        var description: String { "dropout" }
      }
      class Base {
        let k: Int
        init(k: Int) { self.k = k * 2 }
      }
      final class Derived: Base {
        init() { super.init(k: 3) }
      }

      @Memoized func run(_ layers: [Layer], _ x: Double) -> Double {
        layers.reduce(x) { $1.forward($0) }
      }
      @Memoized func names(_ layers: [Layer]) -> String { "\\(layers)" }
      @Memoized func doubled() -> Int { Derived().k }
      """
    #expect(try edit("x * 0.5", "x * 0.4", in: source, changes: "run(_:_:)"))
    #expect(try edit("\"dropout\"", "\"Dropout\"", in: source, changes: "names(_:)"))
    #expect(try edit("k * 2", "k * 3", in: source, changes: "doubled()"))
  }

  @Test func methodOpsReachTheirOwnType() throws {
    let source = """
      struct Experiment: Codable, CustomStringConvertible {
        var seed: Int
        var description: String { "experiment \\(seed)" }
        @Memoized func summary() -> String { "\\(self)" }
        func banner() -> String { "== \\(self) ==" }
        @Memoized func title() -> String { banner() }
      }
      """
    #expect(try edit("\"experiment", "\"run", in: source, changes: "Experiment.summary()"))
    #expect(try edit("\"experiment", "\"run", in: source, changes: "Experiment.title()"))
  }

  @Test func genericWhereClausesAndExtensionHeadersCount() throws {
    let source = """
      struct Label { var description: String { "label" } }
      extension Label: CustomStringConvertible {}
      extension Array where Element == Double {
        var mean: Double { reduce(0, +) / Double(count) }
      }
      func makeShape() -> some CustomStringConvertible { Label() }

      @Memoized func text(_ l: Label) -> String { "\\(l)" }
      @Memoized func average(_ line: String) -> Double { line.split(separator: ",").compactMap { Double($0) }.mean }
      @Memoized func shape() -> String { "\\(makeShape())" }
      """
    #expect(
      try edit("extension Label: CustomStringConvertible {}", "", in: source, changes: "text(_:)"))
    #expect(
      try edit(
        "where Element == Double", "where Element: BinaryFloatingPoint", in: source,
        changes: "average(_:)"))
    #expect(try edit("\"label\"", "\"Label\"", in: source, changes: "shape()"))
  }

  @Test func conformancesOfStandardLibraryTypesAreReached() throws {
    let source = """
      extension Range: @retroactive Comparable where Bound == Int {
        public static func < (a: Range, b: Range) -> Bool { a.lowerBound < b.lowerBound }
      }

      @Memoized func ordered(_ starts: [Int]) -> Int { starts.map { $0..<($0 + 1) }.sorted().first?.lowerBound ?? 0 }
      """
    #expect(
      try edit(
        "a.lowerBound < b.lowerBound", "a.upperBound < b.upperBound", in: source,
        changes: "ordered(_:)"))
  }

  @Test func patternMatchingReachesTildeEquals() throws {
    let source = """
      struct Even {}
      func ~= (pattern: Even, value: Int) -> Bool { value % 2 == 0 }

      @Memoized func parity(_ n: Int) -> String {
        switch n {
        case Even(): "even"
        default: "odd"
        }
      }
      """
    #expect(try edit("value % 2 == 0", "value % 2 == 1", in: source, changes: "parity(_:)"))
  }

  // MARK: Declarations the compiler calls on its own

  @Test func propertyWrappersReachTheirWrapper() throws {
    let source = """
      @propertyWrapper struct Clamped {
        var value: Double
        init(wrappedValue initial: Double) { value = min(max(initial, 0), 1) }
        var wrappedValue: Double {
          get { value }
          set { value = min(max(newValue, 0), 1) }
        }
      }
      struct Knob { @Clamped var level: Double }

      @Memoized func read(_ knob: Knob) -> Double { knob.level }
      @Memoized func local(_ x: Double) -> Double {
        @Clamped var y = x
        return y
      }
      """
    for op in ["read(_:)", "local(_:)"] {
      #expect(try edit("get { value }", "get { value * 100 }", in: source, changes: op))
      #expect(try edit("max(initial, 0)", "max(initial, -1)", in: source, changes: op))
    }
  }

  @Test func observersAreTracked() throws {
    let source = """
      struct Counter {
        var count = 0 {
          didSet { count = min(count, 10) }
          willSet { assert(newValue >= 0) }
        }
      }
      func unrelated() -> Int { 1 }

      @Memoized func bump(_ counter: Counter, by n: Int) -> Int {
        var c = counter
        c.count += n
        return c.count
      }
      """
    #expect(try edit("min(count, 10)", "min(count, 20)", in: source, changes: "bump(_:by:)"))
    #expect(try edit("newValue >= 0", "newValue >= 1", in: source, changes: "bump(_:by:)"))
    #expect(try !edit("{ 1 }", "{ 2 }", in: source, changes: "bump(_:by:)"))
  }

  @Test func defaultArgumentValuesAreTracked() throws {
    let source = """
      func smooth(_ x: Double, factor: Double = 0.9) -> Double { x * factor }
      func unrelated(_ x: Int = 1) -> Int { x }

      @Memoized func run(_ x: Double, epochs: Int = 3) -> Double { smooth(x) * Double(epochs) }
      """
    #expect(try edit("= 0.9", "= 0.8", in: source, changes: "run(_:epochs:)"))
    #expect(try edit("= 3", "= 4", in: source, changes: "run(_:epochs:)"))
    #expect(try !edit("= 1", "= 2", in: source, changes: "run(_:epochs:)"))
  }

  @Test func enumRawAndAssociatedValuesAreTracked() throws {
    let source = """
      enum Activation: String { case relu = "relu", tanh }
      enum Loss {
        case huber(delta: Double = 1)
        case squared
      }

      @Memoized func name(_ a: Activation) -> String { a.rawValue }
      @Memoized func value(_ loss: Loss, _ x: Double) -> Double {
        switch loss {
        case .huber(let delta): abs(x) < delta ? x * x / 2 : delta * (abs(x) - delta / 2)
        case .squared: x * x
        }
      }
      """
    #expect(try edit("= \"relu\"", "= \"ReLU\"", in: source, changes: "name(_:)"))
    #expect(try edit("delta: Double = 1", "delta: Double = 2", in: source, changes: "value(_:_:)"))
    #expect(try !edit("= \"relu\"", "= \"ReLU\"", in: source, changes: "value(_:_:)"))
  }

  @Test func staticLazyAndGlobalInitializersAreTracked() throws {
    let source = """
      func makeTable() -> [Double] { (0..<4).map { Double($0) / 4 } }
      let table = makeTable()
      struct Grid {
        static let shared = Grid(step: 0.5)
        var step: Double
        lazy var cells: [Double] = makeCells()
        func makeCells() -> [Double] { [step, step * 2] }
      }

      @Memoized func lookup(_ i: Int) -> Double { table[i] }
      @Memoized func step() -> Double { Grid.shared.step }
      @Memoized func cells(_ grid: Grid) -> [Double] {
        var grid = grid
        return grid.cells
      }
      """
    #expect(try edit("Double($0) / 4", "Double($0) / 8", in: source, changes: "lookup(_:)"))
    #expect(try !edit("Double($0) / 4", "Double($0) / 8", in: source, changes: "step()"))
    #expect(try edit("step: 0.5", "step: 0.25", in: source, changes: "step()"))
    #expect(try !edit("step: 0.5", "step: 0.25", in: source, changes: "lookup(_:)"))
    #expect(try edit("step * 2", "step * 3", in: source, changes: "cells(_:)"))
  }

  @Test func closuresStoredInGlobalsAreTracked() throws {
    let source = """
      let activation: (Double) -> Double = { max(0, $0) }
      let identity: (Double) -> Double = { $0 }

      @Memoized func forward(_ x: Double) -> Double { activation(x) }
      """
    #expect(try edit("max(0, $0)", "max(0.01 * $0, $0)", in: source, changes: "forward(_:)"))
    #expect(try !edit("{ $0 }", "{ $0 * 2 }", in: source, changes: "forward(_:)"))
  }

  @Test func resultBuildersReachTheirBuildMethods() throws {
    let source = """
      @resultBuilder enum LayerBuilder {
        static func buildExpression(_ width: Int) -> [Int] { [width] }
        static func buildBlock(_ parts: [Int]...) -> [Int] { parts.flatMap { $0 } }
      }
      @LayerBuilder func layers() -> [Int] {
        64
        32
      }

      @Memoized func parameterCount() -> Int { layers().reduce(0, +) }
      """
    #expect(try edit("{ [width] }", "{ [width, width] }", in: source, changes: "parameterCount()"))
    #expect(
      try edit(
        "parts.flatMap { $0 }", "parts.flatMap { $0 }.reversed()", in: source,
        changes: "parameterCount()"))
  }

  @Test func keyPathsReachProperties() throws {
    let source = """
      struct Run {
        var losses: [Double]
        var loss: Double { losses.min() ?? .infinity }
      }
      func unrelated() -> Int { 1 }

      @Memoized func best(_ runs: [Run]) -> Double { runs.map(\\.loss).min() ?? 0 }
      """
    #expect(try edit("losses.min()", "losses.last", in: source, changes: "best(_:)"))
    #expect(try !edit("{ 1 }", "{ 2 }", in: source, changes: "best(_:)"))
  }

  @Test func signatureTypesReachTheirCodableConformance() throws {
    let source = """
      struct Config: Codable {
        var rate: Double
        var epochs: Int
        enum CodingKeys: String, CodingKey { case rate = "learning_rate", epochs }
      }
      struct Report { var score: Double }
      extension Report: Codable {
        init(from decoder: any Decoder) throws {
          score = try decoder.singleValueContainer().decode(Double.self)
        }
        func encode(to encoder: any Encoder) throws {
          var container = encoder.singleValueContainer()
          try container.encode(score)
        }
      }
      struct Unrelated: Codable { var x = 1 }

      @Memoized func train(_ config: Config) -> Report { Report(score: 1) }
      """
    let op = "train(_:)"
    #expect(try edit("\"learning_rate\"", "\"lr\"", in: source, changes: op))
    #expect(try edit("var epochs: Int", "var epochs: Int\n  var seed = 0", in: source, changes: op))
    #expect(
      try edit(
        "try container.encode(score)", "try container.encode(score * 2)", in: source, changes: op))
    #expect(try edit("decode(Double.self)", "decode(Float.self)", in: source, changes: op))
    #expect(try !edit("var x = 1", "var x = 2", in: source, changes: op))
  }

  @Test func userDeclaredOperatorsAreReached() throws {
    let source = """
      precedencegroup PowerPrecedence {
        associativity: right
        higherThan: MultiplicationPrecedence
      }
      infix operator **: PowerPrecedence
      func ** (base: Double, power: Double) -> Double { pow(base, power) }
      struct Vector {
        var x, y: Double
        static func + (a: Vector, b: Vector) -> Vector { Vector(x: a.x + b.x, y: a.y + b.y) }
      }

      @Memoized func energy(_ x: Double) -> Double { 2 * x ** 2 ** 0.5 }
      @Memoized func sum(_ a: Vector, _ b: Vector) -> Vector { a + b }
      """
    #expect(
      try edit("associativity: right", "associativity: left", in: source, changes: "energy(_:)"))
    #expect(
      try edit("pow(base, power)", "exp(power * log(base))", in: source, changes: "energy(_:)"))
    #expect(try edit("y: a.y + b.y", "y: a.y - b.y", in: source, changes: "sum(_:_:)"))
  }

  @Test func dynamicMemberLookupAndDynamicCallableAreReached() throws {
    let source = """
      @dynamicMemberLookup struct Settings {
        var values: [String: Double]
        subscript(dynamicMember key: String) -> Double { values[key] ?? 0 }
      }
      @dynamicCallable struct Weights {
        var coefficients: [Double]
        func dynamicallyCall(withArguments xs: [Double]) -> Double {
          zip(coefficients, xs).map(*).reduce(0, +)
        }
      }

      @Memoized func rate(_ s: Settings) -> Double { s.learningRate }
      @Memoized func apply(_ w: Weights) -> Double { w(1, 2, 3) }
      """
    #expect(try edit("values[key] ?? 0", "values[key] ?? 1", in: source, changes: "rate(_:)"))
    #expect(try edit("map(*)", "map(+)", in: source, changes: "apply(_:)"))
  }

  @Test func deinitializersAreReachedThroughTheirType() throws {
    let source = """
      nonisolated(unsafe) var openHandles = 0
      final class Handle {
        init() { openHandles += 1 }
        deinit { openHandles -= 1 }
      }

      @Memoized func leaks(_ n: Int) -> Int {
        for _ in 0..<n { _ = Handle() }
        return openHandles
      }
      """
    #expect(try edit("openHandles -= 1", "openHandles -= 0", in: source, changes: "leaks(_:)"))
  }

  // MARK: Other targets

  @Test func dependencyTargetsAreFollowed() throws {
    let helpers = """
      public struct Scaler {
        public var factor: Double
        public init(factor: Double) { self.factor = factor }
        public func callAsFunction(_ x: Double) -> Double { x * factor }
      }
      public func normalize(_ xs: [Double]) -> [Double] { xs.map { $0 / (xs.max() ?? 1) } }
      public func unrelated() -> Int { 1 }
      """
    let client = """
      import Helpers

      @Memoized func run(_ xs: [Double]) -> [Double] {
        let scale = Scaler(factor: 2)
        return normalize(xs).map { scale($0) }
      }
      """
    let sources = [client, helpers]
    #expect(try edit("x * factor", "x * factor + 1", in: sources, changes: "run(_:)"))
    #expect(try edit("xs.max() ?? 1", "xs.min() ?? 1", in: sources, changes: "run(_:)"))
    #expect(try !edit("{ 1 }", "{ 2 }", in: sources, changes: "run(_:)"))
  }

  @Test func storedExistentialsReachEveryConformance() throws {
    let source = """
      protocol Stage { func apply(_ x: Double) -> Double }
      struct Shift: Stage, CustomStringConvertible {
        var by: Double
        func apply(_ x: Double) -> Double { x + by }
        var description: String { "shift \\(by)" }
      }
      struct Pipeline { var stages: [any Stage] }

      @Memoized func describe(_ p: Pipeline) -> String { "\\(p.stages)" }
      """
    #expect(try edit("\"shift", "\"Shift", in: source, changes: "describe(_:)"))
  }

  // MARK: Precision

  @Test func conformancesAreReachedOnlyWhereAValueMayHaveThem() throws {
    // A generic helper's constraint reaches no conforming type: its callers
    // name the types they pass. An extension making a standard-library type
    // conform to the package's own protocol is reached by name only.
    let source = """
      struct Store {
        func load<T: Decodable>(_ type: T.Type, from data: [UInt8]) -> T? { nil }
      }
      struct Checkpoint: Codable {
        var step: Int
        func summary() -> String { "step \\(step)" }
      }
      protocol Scalable { func scaled(by k: Double) -> Self }
      extension Double: Scalable {
        func scaled(by k: Double) -> Double { self * k }
      }

      @Memoized func restore(_ data: [UInt8]) -> Int { Store().load(Int.self, from: data) ?? 0 }
      @Memoized func double(_ x: Double) -> Double { x.scaled(by: 2) }
      """
    #expect(try !edit("\"step", "\"Step", in: source, changes: "restore(_:)"))
    #expect(try !edit("self * k", "self * k * 2", in: source, changes: "restore(_:)"))
    #expect(try edit("self * k", "self * k * 2", in: source, changes: "double(_:)"))
  }

  @Test func unrelatedCodeStillChangesNothing() throws {
    // The package of the plugin's end-to-end test: each op reaches only what
    // it uses, whatever these rules add.
    let helpers = """
      public let nClass = 10
      public func scale(_ x: Double) -> Double { x * 2 }
      public func unrelated() -> Int { 1 }
      """
    let client = """
      @Memoized
      func load(seed: Int) -> [Double] { (0..<5).map { Double($0 + seed) } }
      @Memoized
      func train(_ data: [Double], epochs: Int) -> Double {
        data.map(scale).reduce(0, +) * Double(epochs)
      }
      @Memoized
      func classes(_ n: Int) -> Int { n * nClass }
      @Memoized
      func report(_ x: Double) -> String { "report: \\(x)" }
      """
    let sources = [client, helpers]
    let ops = ["load(seed:)", "train(_:epochs:)", "classes(_:)", "report(_:)"]
    for op in ops {
      #expect(try edit("x * 2", "x * 3", in: sources, changes: op) == (op == "train(_:epochs:)"))
      #expect(try edit("= 10", "= 12", in: sources, changes: op) == (op == "classes(_:)"))
      #expect(try !edit("{ 1 }", "{ 2 }", in: sources, changes: op))
    }
  }
}
