import Foundation
import Testing

/// `--model FILE.json`: an architecture of any built-in layers, convolutions included (issue 10).
@Suite struct ArchitecturesFromFiles {
    static let digits = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("LockstepTests/Fixtures/digits.csv").path
    static let cnn = """
        {"input_shape": [1, 8, 8], "layers": [{"type": "conv2d", "in": 1, "out": 16, "kernel": 3, "padding": 1}, {"type": "relu"},
         {"type": "max_pool2d", "kernel": 2}, {"type": "flatten"}, {"type": "linear", "in": 256, "out": 10}]}
        """

    @Test func aCNNFromAFileTrainsAndItsModelFileEvaluatesAndPredicts() throws {
        let dir = try CLI.directory()
        try Self.cnn.write(to: dir.appendingPathComponent("cnn.json"), atomically: true, encoding: .utf8)
        let train = try CLI.run(["train", "--data", Self.digits, "--model", "cnn.json", "--workers", "2", "--epochs", "5",
                                 "--save", "cnn.safetensors"], in: dir)
        #expect(train.status == 0, "\(train.error)")
        #expect(train.output.contains("Sequential(Conv2d(1→16, 3×3, padding 1), ReLU, MaxPool2d(2), Flatten, Linear(256→10)) on [1, 8, 8]"))
        let eval = try CLI.run(["eval", "cnn.safetensors", "--data", Self.digits, "--split", "test", "--json"], in: dir)
        #expect(eval.status == 0, "\(eval.error)")
        let metrics = try #require(try JSONSerialization.jsonObject(with: Data(eval.output.utf8)) as? [String: Any])
        #expect((metrics["accuracy"] as? Double ?? 0) >= 0.85, "\(eval.output)")
        let predict = try CLI.run(["predict", "cnn.safetensors", "--data", Self.digits], in: dir)
        #expect(predict.status == 0 && predict.output.split(separator: "\n").count == 1798, "\(predict.error)")
    }

    @Test(arguments: [
        ("{\"input_shape\": [1, 8, 8], \"layers\": [{\"type\": \"conv2d\", \"in\": 1, \"out\": 16, \"kernel\": 3}, {\"type\": \"flatten\"}, {\"type\": \"linear\", \"in\": 256, \"out\": 10}]}",
         "error: bad.json: layer 2 (linear) takes 256 features, but the layer before gives 576\n"),
        ("{\"layers\": [{\"type\": \"conv2d\", \"in\": 1, \"out\": 16}]}", "error: bad.json: not a model description: layers[0]: key 'kernel' is missing\n"),
        ("{\"layers\": [{\"type\": \"conv2d\", \"in\": 1, \"out\": 4, \"kernel\": 3}, {\"type\": \"flatten\"}]}",
         "error: bad.json: layer 0 (conv2d) needs samples of shape [C, H, W], but the model has no 'input_shape'\n"),
        ("{\"input_shape\": [1, 8, 8], \"layers\": [{\"type\": \"conv3d\"}]}", "error: bad.json: not a model description: layers[0].type: unknown layer type 'conv3d'\n"),
        ("{\"input_shape\": [1, 4, 4], \"layers\": [{\"type\": \"flatten\"}, {\"type\": \"linear\", \"in\": 16, \"out\": 10}]}",
         "error: the training data has 64 features, the model takes 16\n"),
        ("{\"input_shape\": [1, 8, 8], \"layers\": [{\"type\": \"conv2d\", \"in\": 1, \"out\": 1000000, \"kernel\": 1}, {\"type\": \"adaptive_avg_pool2d\"}, {\"type\": \"flatten\"}, {\"type\": \"linear\", \"in\": 1000000, \"out\": 10}]}",
         "error: the model's parameters and the activations of a batch of 1400 need about"),
        // The im2col columns of a huge kernel count too (34 GB for one sample here).
        ("{\"input_shape\": [1, 8, 8], \"layers\": [{\"type\": \"conv2d\", \"in\": 1, \"out\": 1, \"kernel\": 300, \"padding\": 300}, {\"type\": \"flatten\"}, {\"type\": \"linear\", \"in\": 95481, \"out\": 10}]}",
         "error: the model's parameters and the activations of a batch of 1400 need about"),
        // A model that does not end in one output per class would write a file nothing reads.
        ("{\"layers\": [{\"type\": \"layer_norm\", \"features\": 64}]}",
         "error: bad.json gives 64 outputs, the data needs 10 classes: end the model with a layer of 10 outputs (a linear layer)\n"),
        ("{\"input_shape\": [1, 8, 8], \"layers\": [{\"type\": \"conv2d\", \"in\": 1, \"out\": 10, \"kernel\": 8}]}",
         "error: bad.json gives samples of [10, 1, 1], the data needs 10 classes"),
        ("{\"input_shape\": [1, 8, 8], \"layers\": [{\"type\": \"batch_norm2d\", \"features\": 1, \"affine\": false}]}",
         "error: bad.json: not a model description: layers[0].type: batch_norm2d has no key 'affine' (it takes eps, features, momentum)\n"),
        ("{\"input_shape\": [64], \"layers\": [{\"type\": \"embedding\", \"num_embeddings\": 17, \"embedding_dim\": 3}, {\"type\": \"flatten\"}, {\"type\": \"linear\", \"in\": 192, \"out\": 10}]}",
         "error: bad.json begins with an embedding, which takes ids: add --no-standardize"),
        // 1437 training rows in batches of 1400 leave a last batch of 37; of 4, one of 1 (below).
    ])
    func aBadArchitectureFileIsOneLineNamingTheFileAndLayer(json: String, message: String) throws {
        let dir = try CLI.directory()
        try json.write(to: dir.appendingPathComponent("bad.json"), atomically: true, encoding: .utf8)
        let before = CLI.snapshot(dir)
        let result = try CLI.run(["train", "--data", Self.digits, "--model", "bad.json", "--batch-size", "1400", "--quiet"], in: dir)
        #expect(result.status == 1)
        #expect(result.error.hasPrefix(message))
        #expect(CLI.snapshot(dir) == before)   // nothing written
    }
}

/// `lockstep info MODEL` says what a model file holds.
@Suite struct InfoOnAModelFile {
    @Test func itNamesTheArchitectureDataAndTraining() throws {
        let dir = try CLI.directory()
        #expect(try CLI.run(["train", "--data", CLI.iris, "--epochs", "3", "--quiet", "--save", "m.safetensors"], in: dir).status == 0)
        let info = try CLI.run(["info", "m.safetensors"], in: dir)
        #expect(info.status == 0, "\(info.error)")
        let lines = info.output.split(separator: "\n").map(String.init)
        #expect(lines.first == "Model       Sequential(Linear(4→64), ReLU, Linear(64→3))")
        #expect(lines.contains("Parameters  515"))
        #expect(lines.contains { $0.hasPrefix("Task        classification of '") && $0.contains("3 classes") })
        #expect(lines.contains { $0.hasPrefix("Trained     3 epochs") })
        let missing = try CLI.run(["info", "nothing.safetensors"], in: dir)
        #expect(missing.status == 1 && missing.error.hasPrefix("error: nothing.safetensors"))
    }

    /// A run's checkpoint is not a model file, but `info` says where the run stands and how to go on.
    @Test func onACheckpointItSaysWhereTheRunStands() throws {
        let dir = try CLI.directory()
        #expect(try CLI.run(["train", "--data", CLI.iris, "--epochs", "3", "--quiet", "--checkpoint-every", "1"], in: dir).status == 0)
        let run = dir.appendingPathComponent("checkpoints/run-0")
        let newest = try #require(CLI.files(run).filter { $0.hasPrefix("checkpoint-") }.sorted().last)
        let info = try CLI.run(["info", "checkpoints/run-0/" + newest], in: dir)
        #expect(info.status == 0, "\(info.error)")
        let lines = info.output.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("Checkpoint  step ") == true && lines.first?.contains("3 epochs done") == true, "\(lines)")
        #expect(lines.contains("Model       Sequential(Linear(4→64), ReLU, Linear(64→3))"))
        #expect(lines.contains { $0.hasPrefix("Training    batch ") })
        #expect(lines.contains { $0.hasPrefix("Last epoch  3: train loss ") })
        #expect(lines.last == "Resume      lockstep train (the run's options) --resume-from checkpoints/run-0/" + newest)
        // The run's folder means its newest checkpoint, as for --resume-from; a folder without any is refused.
        #expect(try CLI.run(["info", "checkpoints/run-0"], in: dir).output == info.output)
        // Typed with its slash, the folder names the same file (not "run-0//checkpoint-…").
        #expect(try CLI.run(["info", "checkpoints/run-0/"], in: dir).output == info.output)
        let empty = try CLI.run(["info", "checkpoints"], in: dir)
        #expect(empty.status == 1 && empty.error.hasPrefix("error: checkpoints: a folder without checkpoints"), "\(empty.error)")
        // One flipped bit in a tensor: a damaged checkpoint, said as such.
        let file = run.appendingPathComponent(newest)
        var bytes = try Data(contentsOf: file)
        bytes[bytes.count - 4] ^= 0x01
        try bytes.write(to: file)
        let damaged = try CLI.run(["info", "checkpoints/run-0/" + newest], in: dir)
        #expect(damaged.status == 1)
        #expect(damaged.error == "error: checkpoints/run-0/\(newest): a damaged checkpoint: its tensors do not match the checksum written with them\n")
        // Cut short, it is no longer safetensors at all: still a damaged checkpoint, and the parser says how.
        try bytes.prefix(100).write(to: file)
        let truncated = try CLI.run(["info", "checkpoints/run-0/" + newest], in: dir)
        #expect(truncated.status == 1)
        #expect(truncated.error.hasPrefix("error: checkpoints/run-0/\(newest): a damaged checkpoint: header length ")
                && truncated.error.hasSuffix("truncated?\n"), "\(truncated.error)")
        // The run's folder then means what a resume would take: the newest readable checkpoint,
        // the damaged newer one named in a warning.
        let folder = try CLI.run(["info", "checkpoints/run-0"], in: dir)
        #expect(folder.status == 0 && folder.output.hasPrefix("Checkpoint  step ") && folder.output.contains("2 epochs done"), "\(folder.output)")
        #expect(folder.error.hasPrefix("warning: checkpoints/run-0/\(newest): a damaged checkpoint: header length ")
                && folder.error.contains("truncated? (skipped)\n")
                && folder.error.contains("warning: the newest readable checkpoint is checkpoints/run-0/"), "\(folder.error)")
        // A file that is neither a model nor named as a checkpoint keeps the model file's error.
        try bytes.prefix(100).write(to: dir.appendingPathComponent("other.safetensors"))
        let other = try CLI.run(["info", "other.safetensors"], in: dir)
        #expect(other.status == 1 && !other.error.contains("checkpoint"), "\(other.error)")
    }

    @Test func batchNormOverVectorsRefusesALastBatchOfOneRowUnlessDropped() throws {
        let dir = try CLI.directory()
        let json = "{\"layers\": [{\"type\": \"linear\", \"in\": 64, \"out\": 16}, {\"type\": \"batch_norm1d\", \"features\": 16}, "
            + "{\"type\": \"relu\"}, {\"type\": \"linear\", \"in\": 16, \"out\": 10}]}"
        try json.write(to: dir.appendingPathComponent("bn.json"), atomically: true, encoding: .utf8)
        let before = CLI.snapshot(dir)
        let refused = try CLI.run(["train", "--data", ArchitecturesFromFiles.digits, "--model", "bn.json", "--batch-size", "4", "--epochs", "1", "--quiet"], in: dir)
        #expect(refused.status == 1 && refused.error.contains("the epoch's last batch has 1 row (1437 rows in batches of 4)"), "\(refused.error)")
        #expect(CLI.snapshot(dir) == before)
        let dropped = try CLI.run(["train", "--data", ArchitecturesFromFiles.digits, "--model", "bn.json", "--batch-size", "4", "--epochs", "1", "--drop-last",
                                   "--workers", "2", "--quiet"], in: dir)
        #expect(dropped.status == 0, "\(dropped.error)")
        let eval = try CLI.run(["eval", "model.safetensors", "--data", ArchitecturesFromFiles.digits, "--split", "test", "--json"], in: dir)
        #expect(eval.status == 0, "\(eval.error)")
    }
}

/// `lockstep export MODEL --onnx OUT` (ONNX Runtime's side: Tests/LockstepTests/ONNXExportTests.swift).
@Suite struct ExportCommandEndToEnd {
    @Test func itWritesTheONNXFileAndRefusesWhatWouldLoseAFile() throws {
        let dir = try CLI.directory()
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        #expect(try CLI.run(["train", "--data", CLI.iris, "--epochs", "3", "--quiet", "--save", "m.safetensors"], in: dir).status == 0)
        let model = try Data(contentsOf: URL(fileURLWithPath: path("m.safetensors")))
        let export = try CLI.run(["export", "m.safetensors", "--onnx", "m.onnx"], in: dir)
        #expect(export.status == 0, "\(export.error)")
        #expect(export.error.contains("m.onnx: ONNX opset 17, Sequential(Linear(4→64), ReLU, Linear(64→3))"))
        #expect(((try? FileManager.default.attributesOfItem(atPath: path("m.onnx"))[.size] as? Int) ?? 0) > 1000)

        let over = try CLI.run(["export", "m.safetensors", "--onnx", "./m.safetensors"], in: dir)
        #expect(over.status == 64 && over.error.contains("--onnx"), "\(over.error)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path("m.safetensors"))) == model)

        try Data("not a model".utf8).write(to: URL(fileURLWithPath: path("bad.safetensors")))
        let bad = try CLI.run(["export", "bad.safetensors", "--onnx", "bad.onnx"], in: dir)
        #expect(bad.status == 1 && bad.error.hasPrefix("error: bad.safetensors:"), "\(bad.error)")
        #expect(!FileManager.default.fileExists(atPath: path("bad.onnx")))
    }
}
