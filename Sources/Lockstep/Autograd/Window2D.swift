/// The geometry of a 2-D convolution or pooling over a batch of [N, C, H, W] planes: a square
/// window of `kernel` × `kernel`, moved by `stride`, over the input padded with `padding` zeros
/// on every side, its taps `dilation` apart (PyTorch's parameters, one value for both axes).
/// A 1-D convolution is the case `oneDimensional`: planes of one row, a window of 1 × `kernel`.
struct Window2D {
    var batch: Int, channels: Int, height: Int, width: Int
    var kernel: Int, stride: Int, padding: Int, dilation: Int
    /// Channel groups of a convolution (1 for pooling).
    var groups: Int = 1
    /// Output channels of a convolution (the input channels for pooling).
    var outChannels: Int
    /// Whether the window spans one row only (Conv1d): no kernel, stride, padding or dilation
    /// along the height.
    var oneDimensional = false

    /// The window's height, step, padding and tap spacing along the height.
    var rowKernel: Int { oneDimensional ? 1 : kernel }
    var rowStride: Int { oneDimensional ? 1 : stride }
    var rowPadding: Int { oneDimensional ? 0 : padding }
    var rowDilation: Int { oneDimensional ? 1 : dilation }

    var outHeight: Int { (height + 2 * rowPadding - rowDilation * (rowKernel - 1) - 1) / rowStride + 1 }
    var outWidth: Int { (width + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1 }
    /// Input channels per group.
    var groupChannels: Int { channels / groups }
    /// Rows of one group's im2col matrix: C/groups × K × K (C/groups × K in one dimension).
    var patch: Int { groupChannels * rowKernel * kernel }
    /// Output positions per plane.
    var positions: Int { outHeight * outWidth }

    /// The output columns `xo` whose tap `j` reads inside the row: those with
    /// 0 ≤ xo·stride − padding + j·dilation < width, as a range of 0..<outWidth.
    @inline(__always) func validColumns(tap j: Int) -> Range<Int> {
        let offset = j * dilation - padding, ow = outWidth
        // xo·s ≥ −offset  ⇔ xo ≥ ⌈−offset / s⌉;  xo·s < width − offset ⇔ xo ≤ ⌊(width − offset − 1) / s⌋.
        let low = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let high = width - offset - 1 < 0 ? -1 : (width - offset - 1) / stride
        let lo = min(low, ow), hi = max(lo, min(high + 1, ow))
        return lo..<hi
    }

    /// Lays out the windows of `groupChannels` planes starting at `x` as columns:
    /// col[(c·K + i)·K + j, oh·OW + ow] = x[c, oh·s − p + i·d, ow·s − p + j·d], 0 outside.
    /// A window row's taps inside the plane are one contiguous copy when the stride is 1.
    func im2col(_ x: UnsafePointer<Float>, into col: UnsafeMutablePointer<Float>) {
        let oh = outHeight, ow = outWidth, hw = height * width, width = self.width, height = self.height
        let stride = self.stride, rowStride = self.rowStride, rowPadding = self.rowPadding, rowDilation = self.rowDilation
        var row = 0
        for c in 0..<groupChannels {
            for i in 0..<rowKernel {
                for j in 0..<kernel {
                    let dst = col + row * oh * ow
                    let valid = validColumns(tap: j), offset = j * dilation - padding
                    for y in 0..<oh {
                        let out = dst + y * ow
                        let sy = y * rowStride - rowPadding + i * rowDilation
                        guard sy >= 0 && sy < height, !valid.isEmpty else {
                            out.update(repeating: 0, count: ow)
                            continue
                        }
                        let src = x + c * hw + sy * width + offset
                        if valid.lowerBound > 0 { out.update(repeating: 0, count: valid.lowerBound) }
                        if stride == 1 {
                            (out + valid.lowerBound).update(from: src + valid.lowerBound, count: valid.count)
                        } else {
                            for xo in valid { out[xo] = src[xo * stride] }
                        }
                        if valid.upperBound < ow { (out + valid.upperBound).update(repeating: 0, count: ow - valid.upperBound) }
                    }
                    row += 1
                }
            }
        }
    }

    /// The transpose of `im2col`: adds each column entry back into the plane element it came
    /// from (entries of the padding are dropped).
    func col2imAdd(_ col: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        let oh = outHeight, ow = outWidth, hw = height * width, width = self.width, height = self.height
        let stride = self.stride, rowStride = self.rowStride, rowPadding = self.rowPadding, rowDilation = self.rowDilation
        var row = 0
        for c in 0..<groupChannels {
            for i in 0..<rowKernel {
                for j in 0..<kernel {
                    let src = col + row * oh * ow
                    let valid = validColumns(tap: j), offset = j * dilation - padding
                    for y in 0..<oh {
                        let sy = y * rowStride - rowPadding + i * rowDilation
                        guard sy >= 0 && sy < height else { continue }
                        let dst = dx + c * hw + sy * width + offset, from = src + y * ow
                        if stride == 1 {
                            for xo in valid { dst[xo] += from[xo] }
                        } else {
                            for xo in valid { dst[xo * stride] += from[xo] }
                        }
                    }
                    row += 1
                }
            }
        }
    }
}
