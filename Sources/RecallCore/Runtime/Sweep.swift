import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
  private let systemRead = Glibc.read
  private let systemWrite = Glibc.write
  nonisolated(unsafe) private let standardOutputSymbol = dlsym(dlopen(nil, RTLD_NOW), "stdout")
#elseif canImport(Darwin)
  import Darwin
  private let systemRead = Darwin.read
  private let systemWrite = Darwin.write
  nonisolated(unsafe) private let standardOutputSymbol = dlsym(
    UnsafeMutableRawPointer(bitPattern: -2), "__stdoutp")
#elseif canImport(Musl)
  import Musl
  private let systemRead = Musl.read
  private let systemWrite = Musl.write
  nonisolated(unsafe) private let standardOutputSymbol = dlsym(dlopen(nil, RTLD_NOW), "stdout")
#endif

/// The C library's standard output stream, which `print` writes to. Read
/// through its symbol: Swift 6 refuses to read the C global `stdout` (a
/// mutable global), which the C library sets once and never assigns.
nonisolated(unsafe) private let standardOutput: UnsafeMutablePointer<FILE>? =
  standardOutputSymbol?.assumingMemoryBound(to: UnsafeMutablePointer<FILE>?.self).pointee

/// How a sweep reports its progress.
public struct SweepProgress: Sendable {
  enum Style: Sendable {
    case automatic, bar, lines, none
  }

  let style: Style

  /// A bar redrawn in place when standard error is a terminal, and a plain line
  /// every few seconds when it is not (a log file, CI).
  public static let automatic = SweepProgress(style: .automatic)
  /// A bar redrawn in place on standard error. While it is shown, and
  /// standard output is the same terminal, what the program prints to
  /// standard output appears above it, line by line (standard output goes
  /// through the bar until the sweep ends). What goes to standard error,
  /// warnings included, is written as it comes.
  public static let bar = SweepProgress(style: .bar)
  /// A plain line on standard error every few seconds and at the end.
  public static let lines = SweepProgress(style: .lines)
  /// Nothing.
  public static let none = SweepProgress(style: .none)
}

/// Where a sweep stands: how many inputs are done, and how.
public struct SweepStatus: Sendable, Hashable {
  /// How many inputs the sweep has.
  public var total: Int
  /// Inputs whose body returned and ran at least one memoized call's body.
  public var computed = 0
  /// Inputs whose body returned without running any memoized call's body:
  /// everything came from the store.
  public var cached = 0
  /// Inputs whose body threw.
  public var failed = 0
  /// Inputs whose body is running now.
  public var running = 0
  /// Time since the sweep started.
  public var elapsed: Duration = .zero
  /// Time since the sweep started, up to the last input it computed (not
  /// counting inputs that came from the store); the rate of computed inputs
  /// gives the time remaining.
  var computeElapsed: Duration = .zero

  /// Inputs finished, one way or another.
  public var done: Int { computed + cached + failed }

  /// Finished inputs per second.
  public var rate: Double {
    elapsed > .zero ? Double(done) / elapsed.inSeconds : 0
  }

  /// The time left if the remaining inputs take as long as the computed ones
  /// did; `nil` until one has been computed.
  public var remaining: Duration? {
    guard computed > 0 else { return done == total ? .zero : nil }
    let perInput = computeElapsed.inSeconds / Double(computed)
    return .milliseconds(Int((perInput * Double(total - done) * 1000).rounded()))
  }

  /// One line: counts, rate and time remaining, with a bar `width` characters
  /// wide (none when 0).
  public func line(barWidth width: Int = 0) -> String {
    var parts: [String] = []
    if width > 0 {
      let filled = total == 0 ? width : width * done / total
      parts.append(
        "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
          + "]")
    }
    parts.append("\(done)/\(total)")
    var counts = "computed \(computed) · cached \(cached) · running \(running)"
    if failed > 0 { counts += " · failed \(failed)" }
    parts.append(counts)
    parts.append(String(format: "%.1f/s", rate))
    if done < total {
      parts.append("ETA " + (remaining.map(Self.format) ?? "?"))
    } else {
      parts.append("in " + Self.format(elapsed))
    }
    return parts.joined(separator: "  ")
  }

  static func format(_ duration: Duration) -> String {
    let seconds = Int(duration.inSeconds.rounded())
    if seconds < 60 { return "\(seconds)s" }
    if seconds < 3600 { return "\(seconds / 60)m\(String(format: "%02d", seconds % 60))s" }
    return "\(seconds / 3600)h\(String(format: "%02d", seconds / 60 % 60))m"
  }
}

/// The inputs of a sweep that threw, with the results of those that did not.
public struct SweepError: Error, CustomStringConvertible {
  /// The results in input order; `nil` where the body threw (or never ran,
  /// when the sweep was cancelled).
  public var results: [(any Sendable)?]
  /// The inputs' indices whose body threw, with the errors, in input order.
  public var failures: [(index: Int, error: any Error)]
  /// Whether the sweep was cancelled before every input ran.
  public var wasCancelled: Bool

  public var description: String {
    let done = results.count { $0 != nil }
    var text =
      wasCancelled
      ? "the sweep was cancelled after \(done) of \(results.count) inputs; their results are stored, so running it again resumes where it stopped"
      : "\(failures.count) of \(results.count) inputs failed"
    if let first = failures.first {
      text += "; input \(first.index) threw: \(first.error)"
    }
    return text
  }
}

extension Store {
  /// Runs `body` for every input, `parallelism` at a time, with this store
  /// activated, and returns the results in input order.
  ///
  /// Memoized calls inside `body` are looked up first, so running a sweep again
  /// (extended, or after it was stopped half way) computes only what is
  /// missing. Each call's result is stored as soon as it returns: cancelling
  /// the sweep (or Ctrl-C, see `handlesInterrupt`) loses nothing finished.
  ///
  /// ```swift
  /// let grid = [0.001, 0.01, 0.1].flatMap { rate in [16, 32].map { (rate, $0) } }
  /// let scores = try await store.map(grid, parallelism: 4) { rate, width in
  ///   accuracy(train(rate: rate, width: width))
  /// }
  /// ```
  ///
  /// - Parameters:
  ///   - inputs: The inputs, one body run each.
  ///   - parallelism: How many bodies run at once. Default: the number of
  ///     processor cores.
  ///   - progress: How progress is shown on standard error. Default:
  ///     ``SweepProgress/automatic``.
  ///   - handlesInterrupt: Whether Ctrl-C (SIGINT) while the sweep runs
  ///     cancels it, rather than ending the process: running bodies see the
  ///     cancellation, and the sweep throws. A second Ctrl-C ends the process.
  ///     Default: `true`.
  ///   - body: The work for one input.
  /// - Returns: The results, in input order.
  /// - Throws: ``SweepError`` when a body threw (the others still ran) or the
  ///   sweep was cancelled; it carries the results there are.
  public func map<Input: Sendable, Output: Sendable>(
    _ inputs: some Sequence<Input>,
    parallelism: Int = ProcessInfo.processInfo.activeProcessorCount,
    progress: SweepProgress = .automatic,
    handlesInterrupt: Bool = true,
    _ body: @escaping @Sendable (Input) async throws -> Output
  ) async throws -> [Output] {
    let inputs = Array(inputs)
    let sweep = Sweep(total: inputs.count, progress: progress)
    // Room for a result per input in the memory layer and in the top
    // level's history, made once: growing them as results arrive would copy
    // them under their locks, while the other workers wait (scenario H).
    memory.reserve(min(inputs.count, Self.sweepReservation))
    histories.reserveTopLevel(min(inputs.count, Self.sweepReservation))
    // What the program prints while the bar is shown goes above it.
    let router = sweep.routeOutput()
    // The sweep runs in a task of its own, so that Ctrl-C can cancel it.
    // `parallelism` workers each take the next input until none is left: a
    // task per worker, not per input (a stored input's run costs a few
    // microseconds, a task of its own as much again: scenario H). Each
    // output goes straight to its input's place (``SweepOutputs``); only
    // failures are collected.
    let outputs = SweepOutputs<Output>(count: inputs.count)
    let work = Task { () async -> [(index: Int, error: any Error)] in
      await withTaskGroup(of: [(index: Int, error: any Error)].self) { group in
        for _ in 0..<max(1, min(parallelism, inputs.count)) {
          group.addTask {
            await self.activate { () async -> [(index: Int, error: any Error)] in
              var failures: [(index: Int, error: any Error)] = []
              while !Task.isCancelled, let index = sweep.take(of: inputs.count) {
                let element = Sweep.Element(of: self)
                sweep.begin()
                let error = await Sweep.Element.$current.withValue(element) {
                  () async -> (any Error)? in
                  do {
                    outputs.put(try await body(inputs[index]), at: index)
                    return nil
                  } catch {
                    return error
                  }
                }
                if let error {
                  failures.append((index, error))
                  sweep.end(.failed)
                } else {
                  sweep.end(element.didRunABody ? .computed : .cached)
                }
              }
              return failures
            }
          }
        }
        var failures: [(index: Int, error: any Error)] = []
        for await some in group { failures += some }
        return failures.sorted { $0.index < $1.index }
      }
    }
    let interrupt = handlesInterrupt ? InterruptHandler { work.cancel() } : nil
    let reporter = sweep.startReporting()
    let failures = await withTaskCancellationHandler {
      await work.value
    } onCancel: {
      work.cancel()
    }
    reporter?.cancel()
    interrupt?.restore()
    router?.stop()
    sweep.finish()
    if failures.isEmpty, let values = outputs.takeAll() { return values }
    // Inputs neither done nor failed never ran: the sweep was cancelled.
    let results = outputs.takeEach()
    throw SweepError(
      results: results, failures: failures,
      wasCancelled: results.count { $0 != nil } + failures.count < inputs.count)
  }
}

extension Store {
  /// At most how many results a sweep makes room for before it starts.
  static let sweepReservation = 1 << 20
}

/// The outputs of a sweep, each at its input's index. Each index is written
/// at most once, by the worker that took the input; they are read once every
/// worker has ended (the task group's end orders the writes before the
/// reads). Kept in the output's own type: no box and no generic type per
/// input (decision 0116), and the array the sweep returns is moved out
/// whole.
final class SweepOutputs<Output: Sendable>: @unchecked Sendable {
  private let values: UnsafeMutablePointer<Output>
  /// Whether each index holds a value.
  private let written: UnsafeMutablePointer<Bool>
  private let count: Int

  init(count: Int) {
    self.count = count
    values = .allocate(capacity: max(1, count))
    written = .allocate(capacity: max(1, count))
    written.initialize(repeating: false, count: max(1, count))
  }

  /// Puts the output of input `index`.
  func put(_ value: Output, at index: Int) {
    assert(!written[index], "input \(index)'s output was put twice")
    (values + index).initialize(to: value)
    written[index] = true
  }

  /// Every output in input order, moved out; `nil` (and nothing moved) when
  /// an input has none.
  func takeAll() -> [Output]? {
    guard (0..<count).allSatisfy({ written[$0] }) else { return nil }
    written.update(repeating: false, count: count)
    return [Output](unsafeUninitializedCapacity: count) { buffer, initialized in
      if count > 0 { buffer.baseAddress!.moveInitialize(from: values, count: count) }
      initialized = count
    }
  }

  /// Each input's output, moved out, or `nil` where it has none.
  func takeEach() -> [(any Sendable)?] {
    (0..<count).map { index -> (any Sendable)? in
      guard written[index] else { return nil }
      written[index] = false
      return (values + index).move()
    }
  }

  deinit {
    for index in 0..<count where written[index] { (values + index).deinitialize(count: 1) }
    values.deallocate()
    written.deallocate()
  }
}

/// The counts of one running sweep, and its progress display.
final class Sweep: Sendable {
  /// One input's run: whether any memoized call of the sweep's store in it
  /// ran its body (``Store/willExecute(_:because:)`` says so; an observer
  /// of the store's events would make every hit build its event).
  final class Element: Sendable {
    @TaskLocal static var current: Element?
    /// The sweep's store.
    let store: ObjectIdentifier
    private let ran = Atomic(false)
    init(of store: Store) { self.store = ObjectIdentifier(store) }
    func ranABody() { ran.store(true, ordering: .relaxed) }
    var didRunABody: Bool { ran.load(ordering: .relaxed) }
  }

  enum Ending { case computed, cached, failed }

  /// The index of the next input a worker takes.
  private let next = Atomic(0)

  /// Takes the next input's index, or `nil` once all `count` are taken.
  func take(of count: Int) -> Int? {
    let index = next.add(1, ordering: .relaxed).oldValue
    return index < count ? index : nil
  }

  private let status: Mutex<SweepStatus>
  private let started = ContinuousClock.now
  private let style: SweepProgress.Style
  /// Whether a bar was drawn (so the last output ends with a new line).
  private let drewBar = Atomic(false)
  /// Whether the bar is on the terminal's last line, which the bar and the
  /// program's output routed through it (``OutputRouter``) share.
  private let barShown = Mutex(false)

  init(total: Int, progress: SweepProgress) {
    status = Mutex(SweepStatus(total: total))
    switch progress.style {
    case .automatic: style = isatty(STDERR_FILENO) != 0 ? .bar : .lines
    case let other: style = other
    }
  }

  var snapshot: SweepStatus {
    status.withLock { status in
      status.elapsed = ContinuousClock.now - started
      return status
    }
  }

  func begin() { status.withLock { $0.running += 1 } }

  func end(_ ending: Ending) {
    status.withLock { status in
      status.running -= 1
      switch ending {
      case .computed:
        status.computed += 1
        status.computeElapsed = ContinuousClock.now - started
      case .cached: status.cached += 1
      case .failed: status.failed += 1
      }
    }
  }

  /// Starts redrawing the bar (a few times a second) or printing a line
  /// (every 10 seconds); `nil` when nothing is shown.
  func startReporting() -> Task<Void, Never>? {
    let interval: Duration
    switch style {
    case .bar: interval = .milliseconds(200)
    case .lines: interval = .seconds(10)
    case .none, .automatic: return nil
    }
    return Task.detached { [self] in
      while (try? await Task.sleep(for: interval)) != nil { show() }
    }
  }

  /// Routes standard output through the bar while it is shown
  /// (``OutputRouter``); `nil` for other styles, or when standard output is
  /// not a terminal.
  func routeOutput() -> OutputRouter? {
    style == .bar ? OutputRouter(for: self) : nil
  }

  /// Shows the final status.
  func finish() {
    show()
    if drewBar.load(ordering: .relaxed) { Sweep.write("\n") }
  }

  private func show() {
    let status = snapshot
    switch style {
    case .bar:
      barShown.withLock { shown in
        drewBar.store(true, ordering: .relaxed)
        Sweep.write("\r\u{1B}[2K" + status.line(barWidth: 24))
        shown = true
      }
    case .lines:
      Sweep.write("sweep: " + status.line() + "\n")
    case .none, .automatic:
      break
    }
  }

  static func write(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
  }

  /// Shows lines the program wrote to standard output while the bar is on
  /// screen: the bar's line is cleared, the lines written to the terminal
  /// (`terminal`, standard output's own descriptor), and the bar drawn again
  /// below them, unless `redrawing` is false (the sweep has ended).
  func passThrough(_ bytes: ArraySlice<UInt8>, to terminal: Int32, redrawing: Bool) {
    let line = redrawing && style == .bar ? snapshot.line(barWidth: 24) : nil
    barShown.withLock { shown in
      if shown {
        Sweep.write("\r\u{1B}[2K")
        shown = false
      }
      bytes.withUnsafeBytes { bytes in
        var offset = 0
        while offset < bytes.count {
          let written = systemWrite(terminal, bytes.baseAddress! + offset, bytes.count - offset)
          if written < 0, errno == EINTR { continue }
          guard written > 0 else { break }
          offset += written
        }
      }
      if let line {
        Sweep.write(line)
        shown = true
      }
    }
  }
}

/// While a sweep's bar is on screen, routes what the program writes to
/// standard output through it (``Sweep/passThrough(_:to:redrawing:)``), so
/// that lines the program prints appear whole, above the bar, instead of
/// tangled with it. Standard output is a pipe meanwhile, read by a thread of
/// its own that passes on whole lines (an unfinished one waits for its end,
/// or for the sweep's); it is the terminal again when the sweep ends. Only
/// when standard output and standard error are the same terminal (output to
/// a file or a pipe is never mixed with the bar), and one router at a time.
final class OutputRouter: Sendable {
  private let drained = DispatchSemaphore(value: 0)
  /// Set when the sweep ends: what arrives later (from a process the
  /// program started, which still holds the pipe) is written without a bar.
  private let ended = Atomic(false)
  private let terminal: Int32

  /// Whether a router is installed: one at a time per process (a sweep that
  /// runs while another routes shows its bar, and prints, as usual).
  private static let isRouting = Atomic(false)

  init?(for sweep: Sweep) {
    var out = stat()
    var err = stat()
    guard let standardOutput, isatty(STDOUT_FILENO) != 0, fstat(STDOUT_FILENO, &out) == 0,
      fstat(STDERR_FILENO, &err) == 0, out.st_rdev == err.st_rdev,
      Self.isRouting.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    else { return nil }
    var ends: [Int32] = [0, 0]
    fflush(standardOutput)
    let terminal = dup(STDOUT_FILENO)
    guard terminal >= 0, pipe(&ends) == 0 else {
      if terminal >= 0 { close(terminal) }
      Self.isRouting.store(false, ordering: .releasing)
      return nil
    }
    // Neither is for the processes the program starts.
    _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(terminal, F_SETFD, FD_CLOEXEC)
    // Line-buffered, as on the terminal: each printed line reaches the pipe
    // (and so the screen) when it ends, not when a block fills.
    setvbuf(standardOutput, nil, _IOLBF, Int(BUFSIZ))
    guard dup2(ends[1], STDOUT_FILENO) >= 0 else {
      close(ends[0])
      close(ends[1])
      close(terminal)
      Self.isRouting.store(false, ordering: .releasing)
      return nil
    }
    close(ends[1])
    self.terminal = terminal
    let read = ends[0]
    // The thread owns both descriptors and closes them at the pipe's end, so
    // that no write ever lands on a descriptor reused by something else.
    Thread.detachNewThread { [self] in
      var buffer = [UInt8](repeating: 0, count: 4096)
      var pending: [UInt8] = []
      while true {
        let count = buffer.withUnsafeMutableBytes { systemRead(read, $0.baseAddress, $0.count) }
        if count < 0, errno == EINTR { continue }
        guard count > 0 else { break }
        pending += buffer[0..<count]
        guard let last = pending.lastIndex(of: UInt8(ascii: "\n")) else { continue }
        sweep.passThrough(
          pending[...last], to: terminal, redrawing: !ended.load(ordering: .acquiring))
        pending.removeSubrange(...last)
      }
      if !pending.isEmpty { sweep.passThrough(pending[...], to: terminal, redrawing: false) }
      close(read)
      close(terminal)
      drained.signal()
    }
  }

  /// Makes standard output the terminal again, after showing what is left in
  /// the pipe (a process the program started that still holds the pipe is
  /// waited for at most a second; what it writes later is still shown).
  func stop() {
    ended.store(true, ordering: .releasing)
    fflush(standardOutput)
    // Standard output's own descriptor again; the pipe's writing end closes.
    let restored = dup(terminal)
    if restored >= 0 {
      dup2(restored, STDOUT_FILENO)
      close(restored)
    }
    _ = drained.wait(timeout: .now() + 1)
    Self.isRouting.store(false, ordering: .releasing)
  }
}

/// Turns Ctrl-C into a cancellation while any sweep runs: the first SIGINT
/// cancels every running sweep, a second one ends the process as usual. The
/// process's own SIGINT disposition is put back when the last sweep ends.
final class InterruptHandler: Sendable {
  private struct State {
    var next = 0
    var cancels: [Int: @Sendable () -> Void] = [:]
    var source: (any DispatchSourceSignal)?
    var previous: (@convention(c) (Int32) -> Void)?
    var interrupted = false
  }

  private static let state = Mutex(State())
  private let id: Int

  init(_ cancel: @escaping @Sendable () -> Void) {
    id = Self.state.withLock { state in
      let id = state.next
      state.next += 1
      state.cancels[id] = cancel
      if state.source == nil {
        state.previous = signal(SIGINT, SIG_IGN)
        state.interrupted = false
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { InterruptHandler.interrupt() }
        source.resume()
        state.source = source
      }
      return id
    }
  }

  private static func interrupt() {
    let (again, cancels) = state.withLock { state in
      defer { state.interrupted = true }
      return (state.interrupted, Array(state.cancels.values))
    }
    if again {
      signal(SIGINT, SIG_DFL)
      raise(SIGINT)
    }
    Sweep.write(
      "\nrecall: cancelling the sweep; finished results are stored. Press Ctrl-C again to quit now.\n"
    )
    for cancel in cancels { cancel() }
  }

  func restore() {
    Self.state.withLock { state in
      state.cancels[id] = nil
      guard state.cancels.isEmpty, let source = state.source else { return }
      source.cancel()
      state.source = nil
      signal(SIGINT, state.previous)
    }
  }
}
