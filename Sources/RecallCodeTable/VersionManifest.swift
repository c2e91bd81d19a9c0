/// The op versions of one module as the build plugin computed them, written
/// next to the module's fingerprint table so that tools that do not run the
/// program (`recall outdated`) know what its code is now.
///
/// The plugin's tool writes it as JSON in the plugin's work directory, named
/// ``fileName``; RecallCore reads it (`CodeVersions`) and mixes in what the
/// runtime mixes in when the op is declared (a version given by hand).
package struct VersionManifest: Codable, Hashable, Sendable {
  /// The file's name in the plugin's work directory.
  package static let fileName = "RecallVersions.json"
  /// The format this code writes; a reader refuses a newer one.
  package static let currentFormat = 1

  /// One op of the module.
  package struct Op: Codable, Hashable, Sendable {
    /// The op's name within its module with labels only, as the macros name
    /// it (`train(_:epochs:)`, `Trainer.fit(_:)`, a block's name).
    package var name: String
    /// The name with parameter types (`train(_: Dataset, epochs: Int)`).
    package var typedName: String
    /// The op's own fingerprint: the runtime uses the table's version only
    /// when its macro computed the same one.
    package var fingerprint: String
    /// The version over everything the op reaches, as the table has it.
    package var version: String
    /// `@Memoized(version:)`'s text, when given.
    package var manualVersion: String?
    /// The parameters' names, in order.
    package var parameters: [String]
    /// The parameters declared added (`@Memoized(addedParameters:)`).
    package var addedParameters: [String]
    /// The identity and fingerprint of every component the version covers.
    package var components: [[String]]

    package init(
      name: String, typedName: String, fingerprint: String, version: String,
      manualVersion: String?, parameters: [String], addedParameters: [String],
      components: [[String]]
    ) {
      self.name = name
      self.typedName = typedName
      self.fingerprint = fingerprint
      self.version = version
      self.manualVersion = manualVersion
      self.parameters = parameters
      self.addedParameters = addedParameters
      self.components = components
    }
  }

  /// ``currentFormat`` when written.
  package var format: Int
  /// The module's name: ops are named `MODULE.name`.
  package var module: String
  /// The package's display name, when the plugin knew it.
  package var package: String?
  /// The module's ops, by name.
  package var ops: [Op]

  package init(module: String, package: String?, ops: [Op]) {
    self.format = Self.currentFormat
    self.module = module
    self.package = package
    self.ops = ops
  }
}
