// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Lockstep",
    products: [
        .library(name: "Lockstep", targets: ["Lockstep"]),
        .executable(name: "lockstep", targets: ["LockstepCommand"]),
        .executable(name: "lockstep-bench", targets: ["LockstepBench"]),
        .executable(name: "six-pillars", targets: ["SixPillars"]),
    ],
    // `swift build --traits MPI`: the CLI joins an `mpirun` job (OpenMPI, Debian's libopenmpi-dev).
    traits: [.trait(name: "MPI", description: "Train across processes and machines over OpenMPI (needs libopenmpi-dev)")],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CNUMA", pkgConfig: "numa",
            providers: [.apt(["libnuma-dev"])]),
        .systemLibrary(
            name: "CCrypto", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CMPI", pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev"])]),
        // fast_float (Debian's libfast-float-dev, header only) behind a C function: the CSV reader's numbers.
        .target(name: "CFastFloat"),
        // A SIGBUS from a memory-mapped data file that another process truncates: one line, not a crash.
        .target(name: "CFileGuard"),
        .target(
            name: "CThreading",
            cSettings: [.define("_GNU_SOURCE")]),
        // XXH3 (Debian's libxxhash-dev, header only) behind C functions: data fingerprints.
        .target(name: "CXXHash"),
        // Vector square roots, which Swift's SIMD types compute lane by lane (Adam's step).
        .target(name: "CVector"),
        .target(
            name: "Lockstep",
            // libnuma is Linux's; elsewhere the machine is one node (Tensor/NUMA.swift is the seam).
            dependencies: ["COpenBLAS", .target(name: "CNUMA", condition: .when(platforms: [.linux])), "CThreading", "CVector", "CCrypto", "CFastFloat", "CFileGuard", "CXXHash"]),
        .target(
            name: "LockstepBenchmarks",
            dependencies: ["Lockstep"]),
        // The MPI transport: empty unless the trait `MPI` is on (then it needs OpenMPI's headers).
        .target(
            name: "LockstepMPI",
            dependencies: ["Lockstep", .target(name: "CMPI", condition: .when(traits: ["MPI"]))]),
        .target(
            name: "LockstepCommands",
            dependencies: ["Lockstep", "LockstepBenchmarks", "LockstepMPI", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "LockstepCommand",
            dependencies: ["LockstepCommands", "Lockstep"]),
        .executableTarget(
            name: "SixPillars",
            dependencies: ["Lockstep"],
            path: "Examples/SixPillars"),
        .executableTarget(
            name: "DataParallelExample",
            dependencies: ["Lockstep"],
            path: "Examples/DataParallel"),
        .executableTarget(
            name: "InYourOwnTool",
            dependencies: ["Lockstep"],
            path: "Examples/InYourOwnTool"),
        .executableTarget(
            name: "DigitsCNN",
            dependencies: ["Lockstep"],
            path: "Examples/DigitsCNN"),
        .executableTarget(
            name: "ByteLM",
            dependencies: ["Lockstep"],
            path: "Examples/ByteLM"),
        .executableTarget(
            name: "LockstepBench",
            dependencies: ["LockstepCommands"],
            path: "Benchmarks/Scaling"),
        .target(
            name: "AllocationCounter",
            path: "Tests/AllocationCounter"),
        .target(
            name: "DocExamples",
            dependencies: ["Lockstep", "LockstepBenchmarks"],
            path: "Tests/DocExamples"),
        .testTarget(
            name: "LockstepTests",
            dependencies: ["Lockstep", "LockstepBenchmarks", "AllocationCounter", "DocExamples"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "CLITests",
            dependencies: ["LockstepCommand", "LockstepCommands", "Lockstep", "InYourOwnTool", "DigitsCNN", "ByteLM"],
            resources: [.copy("Fixtures")]),
    ],
    cxxLanguageStandard: .cxx17
)
