import Lockstep

// The classes of Examples/DigitsCNN/main.swift, copied verbatim (an executable target cannot be
// imported; `ReadmeShowsTheExamples` checks that the copy still is the example's text).
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
