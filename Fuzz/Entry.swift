import Foundation

/// libFuzzer's entry point: runs the target that `RECALL_FUZZ_TARGET` names
/// (see `.ci/fuzz`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  target(UnsafeRawBufferPointer(start: data, count: size))
  return 0
}

private let target: @Sendable (UnsafeRawBufferPointer) -> Void = {
  let name = ProcessInfo.processInfo.environment["RECALL_FUZZ_TARGET"] ?? ""
  guard let target = FuzzTargets.all[name] else {
    fatalError(
      "Set RECALL_FUZZ_TARGET to one of \(FuzzTargets.all.keys.sorted()); got '\(name)'.")
  }
  return target
}()
