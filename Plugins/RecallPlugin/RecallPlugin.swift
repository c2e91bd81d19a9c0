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
///
/// A target that defines `RECALL_TRACK_DEPENDENCIES`
/// (`swiftSettings: [.define("RECALL_TRACK_DEPENDENCIES")]`) makes the
/// pinned versions of the packages each op reaches — those whose modules the
/// op's code imports, and their dependencies — part of the op's version.
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
      "--output", output.path, "--cache", cache.path, "--module", module.moduleName,
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
    if module.compilationConditions.contains("RECALL_OMIT_CHANGES") {
      arguments.append("--omit-changes")
    }
    if module.compilationConditions.contains("RECALL_TRACK_DEPENDENCIES") {
      arguments += ["--track-dependencies"] + Self.dependencyArguments(context.package)
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

  /// For each module the package's dependencies vend, the packages it
  /// reaches: its own and those of the products its targets depend on,
  /// transitively (`--module-packages MODULE=PACKAGE,…`). Recall's own
  /// package is left out: its version is in every call's environment, and
  /// its dependencies are not the op's.
  static func dependencyArguments(_ root: Package) -> [String] {
    var packageOfProduct: [Product.ID: Package] = [:]
    var packages: [Package] = []
    var visited: Set<Package.ID> = []
    func index(_ package: Package) {
      guard visited.insert(package.id).inserted else { return }
      packages.append(package)
      for product in package.products { packageOfProduct[product.id] = package }
      for dependency in package.dependencies { index(dependency.package) }
    }
    for dependency in root.dependencies { index(dependency.package) }
    func isRecall(_ package: Package) -> Bool {
      package.products.contains { $0.name == "RecallCore" }
    }
    var reached: [Target.ID: Set<Package.ID>] = [:]
    func reach(_ target: Target, in package: Package) -> Set<Package.ID> {
      if let known = reached[target.id] { return known }
      reached[target.id] = [package.id]  // a cycle ends here
      var result: Set<Package.ID> = [package.id]
      for dependency in target.dependencies {
        switch dependency {
        case .target(let other):
          result.formUnion(reach(other, in: package))
        case .product(let product):
          guard let owner = packageOfProduct[product.id], !isRecall(owner) else { continue }
          for other in product.targets { result.formUnion(reach(other, in: owner)) }
        @unknown default:
          continue
        }
      }
      reached[target.id] = result
      return result
    }
    var arguments: [String] = []
    for package in packages where !isRecall(package) {
      for product in package.products {
        for target in product.targets {
          let module = (target as? SourceModuleTarget)?.moduleName ?? target.name
          let reachable = reach(target, in: package).sorted().joined(separator: ",")
          arguments += ["--module-packages", "\(module)=\(reachable)"]
        }
      }
    }
    return arguments
  }
}
