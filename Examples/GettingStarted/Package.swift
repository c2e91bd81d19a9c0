// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "Experiments",
  platforms: [.macOS(.v15)],  // Recall needs macOS 15 or iOS 18; Linux needs nothing here
  dependencies: [
    // A checkout of Recall next to this package.
    .package(path: "../Recall")
  ],
  targets: [
    .executableTarget(
      name: "Experiments",
      dependencies: [.product(name: "Recall", package: "Recall")],
      plugins: [.plugin(name: "RecallPlugin", package: "Recall")]
    )
  ]
)
