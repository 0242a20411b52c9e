import Foundation
import Lockstep
import Synchronization

// A byte-level GPT trained data-parallel on a text file: 256 byte values, windows of 64, two
// pre-norm transformer blocks of 128 with 4 heads, learned positions, PyTorch's initialization.
// Its tensors take the names its PyTorch twin's state_dict gives them (python/byte_lm_twin.py).
final class ByteGPT: Module {
    static let context = 64
    let tok = Embedding(256, 128), pos = PositionalEmbedding(ByteGPT.context, 128)
    let blocks = [TransformerBlock(128, heads: 4, hidden: 512), TransformerBlock(128, heads: 4, hidden: 512)]
    let lnF = LayerNorm(128), head = Linear(128, 256)
    var children: [(name: String, module: any Module)] {
        [("tok", tok), ("pos", pos)] + blocks.enumerated().map { ("blocks.\($0.offset)", $0.element) } + [("ln_f", lnF), ("head", head)]
    }
    func forward(_ ids: Variable) -> Variable {   // ids [N, T] → logits [N, T, 256]
        var x = pos(tok(ids))
        for block in blocks { x = block(x) }
        return head(lnF(x))
    }
}

/// `length` bytes after `prompt`, each drawn from the model's distribution for the next byte at
/// `temperature`, the last 64 bytes as context.
func generate(_ model: Sequential, prompt: [UInt8], length: Int, temperature: Float, seed: UInt64) -> [UInt8] {
    var text = prompt, generator = RandomGenerator(seed: seed)
    let tape = Tape(mode: .inference)
    for _ in 0..<length {
        let window = Array(text.suffix(ByteGPT.context))
        tape.reset()
        let logits = model(tape.input(Tensor(window.map(Float.init), shape: Shape(1, window.count)))).scalars.suffix(256)
        let scaled = logits.map { $0 / temperature }, top = scaled.max()!
        let weights = scaled.map { expf($0 - top) }
        var pick = generator.nextUniform() * weights.reduce(0, +), next = 255
        for (byte, weight) in weights.enumerated() {
            pick -= weight
            if pick < 0 { next = byte; break }
        }
        text.append(UInt8(next))
    }
    return Array(text.suffix(length))
}

// ByteLM FILE [--steps N] [--workers W] [--seed S] [--save PATH] [--load PATH] [--sample BYTES]
let usage = "usage: ByteLM FILE [--steps N] [--workers 1…32] [--seed S] [--save PATH] [--load PATH] [--sample BYTES]"
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    exit(2)
}
var options = ["--steps": "300", "--workers": "4", "--seed": "0", "--save": "byte-lm.safetensors", "--sample": "300"]
var file: String?
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    if argument.hasPrefix("--") {
        guard options[argument] != nil || argument == "--load", let value = arguments.popFirst() else {
            fail("\(argument): unknown option or missing value (\(usage))")
        }
        options[argument] = value
    } else if file == nil { file = argument } else { fail("one text file, got \(file!) and \(argument)") }
}
guard let file else { fail(usage) }
func number<T: FixedWidthInteger>(_ name: String, _ text: String, in range: ClosedRange<T>) -> T {
    guard let value = T(text), range.contains(value) else { fail("\(name) takes a whole number in \(range), got \(text)") }
    return value
}
// Each step draws 32 fresh windows; the sampler keeps an order of 8 bytes per window and worker.
let steps = number("--steps", options["--steps"]!, in: 0...1_000_000)
let workers = number("--workers", options["--workers"]!, in: 1...32)
let seed = number("--seed", options["--seed"]!, in: UInt64.min...UInt64.max)
let sampleLength = number("--sample", options["--sample"]!, in: 0...1_000_000)

do {
    // Refused before anything is read or trained: a model file that would overwrite an input, go
    // to standard output with the text, or could not be written. --steps 0 trains and saves nothing.
    let save = options["--save"]!
    if steps > 0 {
        try FileIdentity.checkDistinct(inputs: [("FILE", file)] + (options["--load"].map { [("--load", $0)] } ?? []),
                                       outputs: [("--save", save)])
        if case .standardOutput = try OutputTarget(save) { fail("--save -: standard output carries the losses and the sample") }
    }
    // The first 90 % of the file trains, the last 10 % validates: each needs a window of 65 bytes.
    let bytes = try TokenWindows.readBytes(at: file)
    guard bytes.count >= 650 else { fail("\(file): \(bytes.count) bytes; ByteLM needs 650 or more (10 % of them validate on windows of 65)") }
    let cut = bytes.count * 9 / 10
    let train = try TokenWindows(Array(bytes[..<cut]), context: ByteGPT.context, offsets: .random(count: steps * 32, seed: seed))
    let validation = try TokenWindows(Array(bytes[cut...]), context: ByteGPT.context, offsets: .strided(ByteGPT.context))

    let trainer = try DataParallelTrainer(workers: workers, model: { ByteGPT() }, seed: seed,
                                          loss: CrossEntropyLoss(), optimizer: .adamW(lr: 3e-4))
    if let load = options["--load"] { try trainer.load(from: load) }   // continue from a saved model
    var fit = FitOptions(epochs: 1, batchSize: 32, seed: seed)
    fit.shuffle = false          // the windows are drawn at random already: batch k is windows 32k..<32k + 32
    fit.stepLosses = true
    let recent = Mutex<[Float]>([])
    if steps > 0 {                // --steps 0: only evaluate and generate (with --load)
        try trainer.fit(train, fit) { event in
            guard case let .stepLoss(step, loss) = event else { return }
            recent.withLock { losses in
                losses.append(loss)
                if losses.count == 10 {
                    print("step \(step) loss \(String(format: "%.4f", losses.reduce(0, +) / 10))")
                    fflush(nil)   // each line as it comes, also into a pipe
                    losses.removeAll()
                }
            }
        }
    }
    let validationLoss = try Evaluator.meanLoss(trainer.model, on: validation, loss: CrossEntropyLoss())
    print("val loss \(String(format: "%.4f", validationLoss))")
    if steps > 0 { try trainer.model.save(to: save) }   // tok.weight, pos.weight, blocks.0.attn.in_proj_weight, …

    let prompt = Array(bytes[cut..<min(cut + ByteGPT.context, bytes.count)])
    print("sample:")
    print(String(decoding: generate(trainer.model, prompt: prompt, length: sampleLength, temperature: 0.8, seed: seed), as: UTF8.self))
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
