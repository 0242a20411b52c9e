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

    /// Lays out the windows of `groupChannels` planes starting at `x` as columns:
    /// col[(c·K + i)·K + j, oh·OW + ow] = x[c, oh·s − p + i·d, ow·s − p + j·d], 0 outside.
    func im2col(_ x: UnsafePointer<Float>, into col: UnsafeMutablePointer<Float>) {
        let oh = outHeight, ow = outWidth, hw = height * width
        var row = 0
        for c in 0..<groupChannels {
            for i in 0..<rowKernel {
                for j in 0..<kernel {
                    let dst = col + row * oh * ow
                    for y in 0..<oh {
                        let sy = y * rowStride - rowPadding + i * rowDilation
                        guard sy >= 0 && sy < height else {
                            (dst + y * ow).update(repeating: 0, count: ow)
                            continue
                        }
                        let src = x + c * hw + sy * width
                        for xo in 0..<ow {
                            let sx = xo * stride - padding + j * dilation
                            dst[y * ow + xo] = sx >= 0 && sx < width ? src[sx] : 0
                        }
                    }
                    row += 1
                }
            }
        }
    }

    /// The transpose of `im2col`: adds each column entry back into the plane element it came
    /// from (entries of the padding are dropped).
    func col2imAdd(_ col: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        let oh = outHeight, ow = outWidth, hw = height * width
        var row = 0
        for c in 0..<groupChannels {
            for i in 0..<rowKernel {
                for j in 0..<kernel {
                    let src = col + row * oh * ow
                    for y in 0..<oh {
                        let sy = y * rowStride - rowPadding + i * rowDilation
                        guard sy >= 0 && sy < height else { continue }
                        let dst = dx + c * hw + sy * width
                        for xo in 0..<ow {
                            let sx = xo * stride - padding + j * dilation
                            if sx >= 0 && sx < width { dst[sx] += src[y * ow + xo] }
                        }
                    }
                    row += 1
                }
            }
        }
    }
}
