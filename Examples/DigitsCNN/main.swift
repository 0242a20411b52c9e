import Foundation
import Lockstep

// A network of your own: a class whose layers are properties and whose forward is its own code
// (two convolutions with batch norm, a residual block), trained on 4 workers on the digits as
// 1 × 8 × 8 images, then saved under the names PyTorch's twin of the class gives its tensors.
final class ResidualBlock: Module {
    let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d
    init(_ channels: Int) {
        conv1 = Conv2d(channels, channels, kernel: 3, padding: 1, bias: false)
        bn1 = BatchNorm2d(channels)
        conv2 = Conv2d(channels, channels, kernel: 3, padding: 1, bias: false)
        bn2 = BatchNorm2d(channels)
    }
    var children: [(name: String, module: any Module)] { [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)] }
    func forward(_ x: Variable) -> Variable { (x + bn2(conv2(bn1(conv1(x)).relu()))).relu() }
}

final class DigitsCNN: Module {
    let conv1 = Conv2d(1, 16, kernel: 3, padding: 1), bn1 = BatchNorm2d(16)
    let conv2 = Conv2d(16, 32, kernel: 3, padding: 1), bn2 = BatchNorm2d(32)
    let block = ResidualBlock(32)
    let pool = MaxPool2d(2), fc = Linear(32 * 2 * 2, 10)
    var children: [(name: String, module: any Module)] {
        [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2), ("block", block), ("fc", fc)]
    }
    func forward(_ x: Variable) -> Variable {
        let h = pool(bn1(conv1(x)).relu())             // [N, 16, 4, 4]
        let features = pool(bn2(conv2(h)).relu())      // [N, 32, 2, 2]
        return fc(block(features).flattened())         // [N, 10]
    }
}

let digits = try Dataset.read(at: CommandLine.arguments.dropFirst().first ?? "digits.csv")
let split = try digits.split(testFraction: 0.2, seed: 0)
let scaler = Standardizer(fitting: split.train.features)          // per pixel
let train = try scaler.transform(split.train).reshapedSamples(to: [1, 8, 8])
let test = try scaler.transform(split.test).reshapedSamples(to: [1, 8, 8])

let trainer = try DataParallelTrainer(workers: 4, model: { DigitsCNN() }, seed: 0,
                                      loss: CrossEntropyLoss(), optimizer: .adam(lr: 1e-3))
var options = FitOptions(epochs: 15, batchSize: 32)
options.test = test
let result = try trainer.fit(train, options)
let report = result.history.last!
print("epoch \(report.epoch + 1): train loss \(report.trainLoss), test accuracy \(report.test!.accuracy!)")

try trainer.model.save(to: "digits-cnn.safetensors")   // conv1.weight, bn1.running_mean, block.conv1.weight, …
let net = DigitsCNN()
try net.load(from: "digits-cnn.safetensors")
let reloaded = try Evaluator.evaluate(Sequential(root: net), on: test, loss: CrossEntropyLoss())
print("reloaded: test accuracy \(reloaded.accuracy!)")
