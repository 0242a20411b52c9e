/// A 2-D convolution over [N, C, H, W] (PyTorch's `nn.Conv2d` with square kernels): `weight` is
/// [out, in / groups, kernel, kernel] and `bias` [out], as in PyTorch's state_dict, initialized
/// as PyTorch does — U(±1/√fan_in), fan_in = in / groups · kernel² — from Lockstep's seeded
/// generator.
///
/// Shape: [N, in, H, W] → [N, out, H', W'], H' = (H + 2·padding − dilation·(kernel − 1) − 1) / stride + 1.
///
/// ```swift
/// let conv = Conv2d(1, 16, kernel: 3, padding: 1)
/// let y = conv(x)                 // x: [32, 1, 8, 8] → y: [32, 16, 8, 8]
/// ```
public final class Conv2d: BuiltinLayer {
    /// Input channels.
    public let inChannels: Int
    /// Output channels.
    public let outChannels: Int
    /// The window's side, its step, the zeros around the input and the spacing of its taps.
    public let kernel: Int, stride: Int, padding: Int, dilation: Int
    /// Channel groups: each output channel sees in / groups input channels.
    public let groups: Int
    /// The filters, [out, in / groups, kernel, kernel].
    public let weight: Parameter
    /// One per output channel, or nil.
    public let bias: Parameter?

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                groups: Int = 1, bias: Bool = true) {
        precondition(inChannels > 0 && outChannels > 0 && kernel > 0 && stride > 0 && padding >= 0 && dilation > 0 && groups > 0,
                     "Conv2d needs positive sizes")
        precondition(inChannels % groups == 0 && outChannels % groups == 0, "Conv2d: channels must divide into the groups")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        weight = Parameter(name: "weight", shape: Shape(outChannels, inChannels / groups, kernel, kernel))
        self.bias = bias ? Parameter(name: "bias", shape: Shape(outChannels)) : nil
        var generator = RandomGenerator(seed: 0)
        resetParameters(using: &generator)
    }

    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    public func forward(_ input: Variable) -> Variable {
        let tape = input.tape
        return input.conv2d(weight: tape.parameter(weight), bias: bias.map { tape.parameter($0) }, stride: stride,
                            padding: padding, dilation: dilation, groups: groups)
    }

    public var spec: LayerSpec {
        .conv2d(inChannels: inChannels, outChannels: outChannels, kernel: kernel, stride: stride, padding: padding,
                dilation: dilation, groups: groups, bias: bias != nil)
    }

    public func resetParameters(using generator: inout RandomGenerator) {
        let bound = 1 / Float(inChannels / groups * kernel * kernel).squareRoot()
        weight.fillUniform(bound: bound, using: &generator)
        bias?.fillUniform(bound: bound, using: &generator)
    }
}

/// A 1-D convolution over [N, C, L] (PyTorch's `nn.Conv1d`): `weight` is [out, in / groups,
/// kernel] and `bias` [out], initialized as PyTorch does — U(±1/√fan_in), fan_in = in / groups ·
/// kernel.
///
/// Shape: [N, in, L] → [N, out, L'], L' = (L + 2·padding − dilation·(kernel − 1) − 1) / stride + 1.
public final class Conv1d: BuiltinLayer {
    /// Input and output channels.
    public let inChannels: Int, outChannels: Int
    /// The window's length, its step, the zeros at each end and the spacing of its taps.
    public let kernel: Int, stride: Int, padding: Int, dilation: Int
    /// Channel groups: each output channel sees in / groups input channels.
    public let groups: Int
    /// The filters, [out, in / groups, kernel].
    public let weight: Parameter
    /// One per output channel, or nil.
    public let bias: Parameter?

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                groups: Int = 1, bias: Bool = true) {
        precondition(inChannels > 0 && outChannels > 0 && kernel > 0 && stride > 0 && padding >= 0 && dilation > 0 && groups > 0,
                     "Conv1d needs positive sizes")
        precondition(inChannels % groups == 0 && outChannels % groups == 0, "Conv1d: channels must divide into the groups")
        (self.inChannels, self.outChannels, self.kernel, self.stride) = (inChannels, outChannels, kernel, stride)
        (self.padding, self.dilation, self.groups) = (padding, dilation, groups)
        weight = Parameter(name: "weight", shape: Shape(outChannels, inChannels / groups, kernel))
        self.bias = bias ? Parameter(name: "bias", shape: Shape(outChannels)) : nil
        var generator = RandomGenerator(seed: 0)
        resetParameters(using: &generator)
    }

    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    public func forward(_ input: Variable) -> Variable {
        let tape = input.tape
        return input.conv1d(weight: tape.parameter(weight), bias: bias.map { tape.parameter($0) }, stride: stride,
                            padding: padding, dilation: dilation, groups: groups)
    }

    public var spec: LayerSpec {
        .conv1d(inChannels: inChannels, outChannels: outChannels, kernel: kernel, stride: stride, padding: padding,
                dilation: dilation, groups: groups, bias: bias != nil)
    }

    public func resetParameters(using generator: inout RandomGenerator) {
        let bound = 1 / Float(inChannels / groups * kernel).squareRoot()
        weight.fillUniform(bound: bound, using: &generator)
        bias?.fillUniform(bound: bound, using: &generator)
    }
}

/// The largest value of each `kernel` × `kernel` window (PyTorch's `nn.MaxPool2d`, stride
/// defaulting to the kernel, no padding).
///
/// Shape: [N, C, H, W] → [N, C, (H − kernel) / stride + 1, (W − kernel) / stride + 1].
public final class MaxPool2d: BuiltinLayer {
    /// The window's side and its step.
    public let kernel: Int, stride: Int

    /// A `kernel` below 1 is reported by the forward pass (as any shape error), not trapped here.
    public init(_ kernel: Int, stride: Int? = nil) {
        self.kernel = kernel
        self.stride = stride ?? kernel
    }

    public func forward(_ input: Variable) -> Variable { input.maxPool2d(kernel: kernel, stride: stride) }
    public var spec: LayerSpec { .maxPool2d(kernel: kernel, stride: stride) }
}

/// Each sample as one row, its elements in C, H, W order (PyTorch's `nn.Flatten()`).
///
/// Shape: [N, …] → [N, product of the rest].
public final class Flatten: BuiltinLayer {
    public init() {}
    public func forward(_ input: Variable) -> Variable { input.flattened() }
    public var spec: LayerSpec { .flatten }
}

/// The mean of each `kernel` × `kernel` window (PyTorch's `nn.AvgPool2d`, stride defaulting to
/// the kernel, no padding).
///
/// Shape: [N, C, H, W] → [N, C, (H − kernel) / stride + 1, (W − kernel) / stride + 1].
public final class AvgPool2d: BuiltinLayer {
    /// The window's side and its step.
    public let kernel: Int, stride: Int

    public init(_ kernel: Int, stride: Int? = nil) {
        self.kernel = kernel
        self.stride = stride ?? kernel
    }

    public func forward(_ input: Variable) -> Variable { input.avgPool2d(kernel: kernel, stride: stride) }
    public var spec: LayerSpec { .avgPool2d(kernel: kernel, stride: stride) }
}

/// The mean of each plane (PyTorch's `nn.AdaptiveAvgPool2d(1)`): global average pooling.
///
/// Shape: [N, C, H, W] → [N, C, 1, 1].
public final class AdaptiveAvgPool2d: BuiltinLayer {
    public init() {}
    public func forward(_ input: Variable) -> Variable { input.adaptiveAvgPool2d() }
    public var spec: LayerSpec { .adaptiveAvgPool2d }
}

/// Whole channels dropped with probability `p` while training (PyTorch's `nn.Dropout2d`); the
/// identity on an inference tape.
public final class Dropout2d: BuiltinLayer {
    /// The probability of zeroing a channel, in [0, 1).
    public let p: Float
    public init(_ p: Float = 0.5) { self.p = p }
    public func forward(_ input: Variable) -> Variable { input.dropout2d(p) }
    public var spec: LayerSpec { .dropout2d(p) }
}

/// Its input, unchanged (PyTorch's `nn.Identity`): a placeholder where an architecture has a slot.
public final class Identity: BuiltinLayer {
    public init() {}
    public func forward(_ input: Variable) -> Variable { input }
    public var spec: LayerSpec { .identity }
}
