import Foundation
import PackagePlugin

/// Makes every op's version cover the helpers and globals it uses.
///
/// Apply it to a target that uses `@Memoized`:
///
/// ```swift
/// .target(name: "Experiments", dependencies: ["Recall"],
///         plugins: [.plugin(name: "RecallPlugin", package: "Recall")])
/// ```
///
/// At every build it hands the target's sources, and those of the package's
/// source targets the target depends on (macro targets excluded), to
/// `RecallFingerprintTool`, which generates the module's internal fingerprint
/// table, with what was built: the package's git commit and uncommitted
/// changes, the compiler (`swiftc --version`) and the dependencies that
/// `Package.resolved` pins.
@main
struct RecallPlugin: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
    guard let module = target as? SwiftSourceModuleTarget else { return [] }
    let sources = module.sourceFiles(withSuffix: "swift").map(\.url)

    var dependencySources: [URL] = []
    var seen: Set<String> = [module.id]
    func collect(_ target: Target) {
      for dependency in target.dependencies {
        // Products come from other packages; only this package's code is tracked.
        guard case .target(let dependencyTarget) = dependency,
          seen.insert(dependencyTarget.id).inserted,
          let source = dependencyTarget as? SwiftSourceModuleTarget,
          source.kind != .macro
        else { continue }
        dependencySources += source.sourceFiles(withSuffix: "swift").map(\.url)
        collect(dependencyTarget)
      }
    }
    collect(target)

    let output = context.pluginWorkDirectoryURL.appending(path: "RecallFingerprintTable.swift")
    let cache = context.pluginWorkDirectoryURL.appending(path: "RecallFingerprintCache.bin")
    var arguments = [
      "--output", output.path, "--cache", cache.path,
      "--package-name", context.package.displayName,
      "--package-directory", context.package.directoryURL.path,
    ]
    // Inputs too, so that a new compiler or new pins run the tool again.
    var buildInputs: [URL] = []
    if let swiftc = try? context.tool(named: "swiftc").url {
      arguments += ["--swiftc", swiftc.path]
      buildInputs.append(swiftc)
    }
    let resolved = context.package.directoryURL.appending(path: "Package.resolved")
    if FileManager.default.fileExists(atPath: resolved.path) {
      arguments += ["--resolved", resolved.path]
      buildInputs.append(resolved)
    }
    return [
      .buildCommand(
        displayName: "Fingerprinting \(module.name) for Recall",
        executable: try context.tool(named: "RecallFingerprintTool").url,
        arguments: arguments + ["--sources"] + sources.map(\.path) + ["--dependency-sources"]
          + dependencySources.map(\.path),
        inputFiles: sources + dependencySources + buildInputs,
        outputFiles: [output])
    ]
  }
}
