// swift-tools-version: 6.1
// libFuzzer targets for every reader of outside bytes. Not part of the main package: build and run
// them with `Fuzz/run.sh [SECONDS]` (it passes `-sanitize=fuzzer,address -parse-as-library`).
import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, whatever the clone is called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let lockstep = Target.Dependency.product(name: "Lockstep", package: root.lastPathComponent)

let package = Package(
    name: "LockstepFuzz",
    dependencies: [.package(path: root.path)],
    targets: [
        .target(name: "CFuzzDriver"),
        .target(name: "CSafeTensorsMutator"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzDriver"]),
        .executableTarget(name: "FuzzCSV", dependencies: [lockstep, "FuzzSupport"]),
        .executableTarget(name: "FuzzNPY", dependencies: [lockstep, "FuzzSupport"]),
        .executableTarget(name: "FuzzSafeTensors", dependencies: [lockstep, "FuzzSupport", "CSafeTensorsMutator"]),
        .executableTarget(name: "FuzzModel", dependencies: [lockstep, "FuzzSupport", "CSafeTensorsMutator"]),
        .executableTarget(name: "FuzzCheckpoint", dependencies: [lockstep, "FuzzSupport", "CSafeTensorsMutator"]),
    ]
)
