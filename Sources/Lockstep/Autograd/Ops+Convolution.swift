extension Variable {
    /// A 2-D convolution (PyTorch's `F.conv2d`, cross-correlation as there): each group of
    /// C/groups input channels is laid out as columns (im2col) and multiplied by the group's
    /// weights through BLAS, one sample at a time.
    ///
    /// Shape: input [N, C, H, W], weight [O, C/groups, K, K], bias [O] → [N, O, H', W'] with
    /// H' = (H + 2·padding − dilation·(K − 1) − 1) / stride + 1 (and W' alike).
    public func conv2d(weight: Variable, bias: Variable?, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                       groups: Int = 1) -> Variable {
        guard !tape.failed else { return tape.standIn() }
        let sx = shape, sw = weight.shape
        guard sx.rank == 4 && sw.rank == 4 else {
            return tape.fail("conv2d needs input [N, C, H, W] and weight [O, C/groups, K, K], got \(sx) and \(sw)")
        }
        guard sw[2] == sw[3] else { return tape.fail("conv2d takes square kernels, got \(sw)") }
        guard stride >= 1 && padding >= 0 && dilation >= 1 && groups >= 1 else {
            return tape.fail("conv2d: stride, dilation and groups must be ≥ 1 and padding ≥ 0")
        }
        guard sx[1] == sw[1] * groups && sw[0] % groups == 0 else {
            return tape.fail("conv2d: input of \(sx[1]) channels, weight \(sw) with \(groups) groups")
        }
        let window = Window2D(batch: sx[0], channels: sx[1], height: sx[2], width: sx[3], kernel: sw[2], stride: stride,
                              padding: padding, dilation: dilation, groups: groups, outChannels: sw[0])
        guard window.outHeight >= 1 && window.outWidth >= 1 else {
            return tape.fail("conv2d: a \(sw[2])×\(sw[2]) kernel (dilation \(dilation)) does not fit the input \(sx) padded by \(padding)")
        }
        if let bias, bias.shape.count != sw[0] { return tape.fail("conv2d: bias \(bias.shape) for \(sw[0]) output channels") }
        return convolution(window, weight: weight, bias: bias, outShape: Shape(window.batch, window.outChannels, window.outHeight, window.outWidth))
    }

    /// A 1-D convolution (PyTorch's `F.conv1d`): `conv2d` over planes of one row.
    ///
    /// Shape: input [N, C, L], weight [O, C/groups, K], bias [O] → [N, O, L'] with
    /// L' = (L + 2·padding − dilation·(K − 1) − 1) / stride + 1.
    public func conv1d(weight: Variable, bias: Variable?, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                       groups: Int = 1) -> Variable {
        guard !tape.failed else { return tape.standIn() }
        let sx = shape, sw = weight.shape
        guard sx.rank == 3 && sw.rank == 3 else {
            return tape.fail("conv1d needs input [N, C, L] and weight [O, C/groups, K], got \(sx) and \(sw)")
        }
        guard stride >= 1 && padding >= 0 && dilation >= 1 && groups >= 1 else {
            return tape.fail("conv1d: stride, dilation and groups must be ≥ 1 and padding ≥ 0")
        }
        guard sx[1] == sw[1] * groups && sw[0] % groups == 0 else {
            return tape.fail("conv1d: input of \(sx[1]) channels, weight \(sw) with \(groups) groups")
        }
        let window = Window2D(batch: sx[0], channels: sx[1], height: 1, width: sx[2], kernel: sw[2], stride: stride,
                              padding: padding, dilation: dilation, groups: groups, outChannels: sw[0], oneDimensional: true)
        guard window.outWidth >= 1 else {
            return tape.fail("conv1d: a kernel of \(sw[2]) (dilation \(dilation)) does not fit the input \(sx) padded by \(padding)")
        }
        if let bias, bias.shape.count != sw[0] { return tape.fail("conv1d: bias \(bias.shape) for \(sw[0]) output channels") }
        return convolution(window, weight: weight, bias: bias, outShape: Shape(window.batch, window.outChannels, window.outWidth))
    }

    /// The convolution of this input by `window`, recorded with output shape `outShape`: each
    /// group's windows laid out as columns (im2col) and multiplied by its weights through BLAS.
    private func convolution(_ window: Window2D, weight: Variable, bias: Variable?, outShape: Shape) -> Variable {
        let flag = Int32(tape.windows.count)
        tape.windows.append(window)
        let (n, o, positions, groups) = (window.batch, window.outChannels, window.positions, window.groups)
        let (out, y) = tape.record(.conv2d, self, weight, bias, shape: outShape, flag: flag, zeroed: false)
        let x = tape.data(id), w = tape.data(weight.id)
        let col = tape.arena.allocate(window.patch * positions, zeroed: false)
        let og = o / groups, plane = window.height * window.width
        for sample in 0..<n {
            for g in 0..<groups {
                window.im2col(x + (sample * window.channels + g * window.groupChannels) * plane, into: col)
                BLAS.gemm(transposeA: false, transposeB: false, m: og, n: positions, k: window.patch,
                          a: w + g * og * window.patch, lda: window.patch, b: col, ldb: positions,
                          beta: 0, c: y + (sample * o + g * og) * positions, ldc: positions)
            }
            if let bias {
                let b = tape.data(bias.id)
                for c in 0..<o {
                    let dst = y + (sample * o + c) * positions
                    for i in 0..<positions { dst[i] += b[c] }
                }
            }
        }
        return out
    }

    /// The largest value of each `kernel` × `kernel` window, moved by `stride` (PyTorch's
    /// `F.max_pool2d` without padding; the first largest wins a tie, and takes the gradient).
    ///
    /// Shape: [N, C, H, W] → [N, C, (H − K) / stride + 1, (W − K) / stride + 1].
    public func maxPool2d(kernel: Int, stride: Int? = nil) -> Variable {
        guard !tape.failed else { return tape.standIn() }
        let s = shape
        guard s.rank == 4 else { return tape.fail("maxPool2d needs [N, C, H, W], got \(s)") }
        guard kernel >= 1 && (stride ?? kernel) >= 1 else { return tape.fail("maxPool2d: kernel and stride must be ≥ 1") }
        let window = Window2D(batch: s[0], channels: s[1], height: s[2], width: s[3], kernel: kernel, stride: stride ?? kernel,
                              padding: 0, dilation: 1, outChannels: s[1])
        guard window.outHeight >= 1 && window.outWidth >= 1 else { return tape.fail("maxPool2d: a \(kernel)×\(kernel) window does not fit \(s)") }
        let flag = Int32(tape.windows.count)
        tape.windows.append(window)
        let planes = window.batch * window.channels, oh = window.outHeight, ow = window.outWidth
        let argmax = tape.arena.allocate(planes * oh * ow, zeroed: false)   // the winner's index in its plane
        let (out, y) = tape.record(.maxPool2d, self, shape: Shape(window.batch, window.channels, oh, ow), flag: flag, saved: argmax, zeroed: false)
        let x = tape.data(id), height = window.height, width = window.width, step = window.stride
        for p in 0..<planes {
            let src = x + p * height * width, dst = y + p * oh * ow, winners = argmax + p * oh * ow
            if kernel == 2 && step == 2 {   // the common case: four windows at a time, in SIMD lanes
                for i in 0..<oh {
                    Self.maxPool2x2Row(top: src + 2 * i * width, width: width, count: ow, rowOffset: 2 * i * width,
                                       into: dst + i * ow, winners: winners + i * ow)
                }
                continue
            }
            for i in 0..<oh {
                for j in 0..<ow {
                    var best = -Float.infinity, at = (i * step) * width + j * step
                    for di in 0..<kernel {
                        let row = (i * step + di) * width + j * step
                        for dj in 0..<kernel where src[row + dj] > best || (src[row + dj].isNaN && !best.isNaN) {
                            best = src[row + dj]
                            at = row + dj
                        }
                    }
                    dst[i * ow + j] = best
                    winners[i * ow + j] = Float(at)
                }
            }
        }
        return out
    }

    /// One output row of a 2 × 2, stride-2 max pooling: `count` windows over the rows at `top`
    /// and `top + width`; each winner's index in the plane (`rowOffset` + its place) goes to
    /// `winners`. Four windows at a time in SIMD lanes: selects, not branches (which window wins
    /// is a coin flip to predict). The first largest wins, and a NaN wins over numbers (the first
    /// NaN), as in PyTorch.
    @inline(__always)
    static func maxPool2x2Row(top: UnsafePointer<Float>, width: Int, count: Int, rowOffset: Int,
                              into dst: UnsafeMutablePointer<Float>, winners: UnsafeMutablePointer<Float>) {
        let bottom = top + width
        var j = 0
        let lanes = SIMD4<Float>(0, 2, 4, 6)
        while j + 4 <= count {
            let t = UnsafeRawPointer(top + 2 * j).loadUnaligned(as: SIMD8<Float>.self)
            let b = UnsafeRawPointer(bottom + 2 * j).loadUnaligned(as: SIMD8<Float>.self)
            let a0 = t.evenHalf, a1 = t.oddHalf, b0 = b.evenHalf, b1 = b.oddHalf
            var best = a0, offset = SIMD4<Float>(repeating: 0)
            var wins = a1 .> best
            offset.replace(with: 1, where: wins); best.replace(with: a1, where: wins)
            wins = b0 .> best
            offset.replace(with: Float(width), where: wins); best.replace(with: b0, where: wins)
            wins = b1 .> best
            offset.replace(with: Float(width + 1), where: wins); best.replace(with: b1, where: wins)
            let sum = a0 + a1 + b0 + b1
            if sum != sum {   // a NaN (or ∞ − ∞) among these windows: decide them one by one
                for k in 0..<4 { maxPool2x2Window(top, bottom, width, j + k, rowOffset, dst, winners) }
            } else {
                UnsafeMutableRawPointer(dst + j).storeBytes(of: best, as: SIMD4<Float>.self)
                let index = offset + lanes + Float(rowOffset + 2 * j)
                UnsafeMutableRawPointer(winners + j).storeBytes(of: index, as: SIMD4<Float>.self)
            }
            j += 4
        }
        while j < count {
            maxPool2x2Window(top, bottom, width, j, rowOffset, dst, winners)
            j += 1
        }
    }

    /// One window of `maxPool2x2Row`, decided with comparisons.
    @inline(__always)
    static func maxPool2x2Window(_ top: UnsafePointer<Float>, _ bottom: UnsafePointer<Float>, _ width: Int, _ j: Int,
                                 _ rowOffset: Int, _ dst: UnsafeMutablePointer<Float>, _ winners: UnsafeMutablePointer<Float>) {
        var best = top[2 * j], offset = 0
        @inline(__always) func consider(_ v: Float, _ k: Int) {
            if v > best || (v.isNaN && !best.isNaN) { best = v; offset = k }
        }
        consider(top[2 * j + 1], 1)
        consider(bottom[2 * j], width)
        consider(bottom[2 * j + 1], width + 1)
        dst[j] = best
        winners[j] = Float(rowOffset + 2 * j + offset)
    }

    /// The mean of each `kernel` × `kernel` window, moved by `stride` (PyTorch's `F.avg_pool2d`
    /// without padding).
    ///
    /// Shape: [N, C, H, W] → [N, C, (H − K) / stride + 1, (W − K) / stride + 1].
    public func avgPool2d(kernel: Int, stride: Int? = nil) -> Variable {
        guard !tape.failed else { return tape.standIn() }
        let s = shape
        guard s.rank == 4 else { return tape.fail("avgPool2d needs [N, C, H, W], got \(s)") }
        guard kernel >= 1 && (stride ?? kernel) >= 1 else { return tape.fail("avgPool2d: kernel and stride must be ≥ 1") }
        let window = Window2D(batch: s[0], channels: s[1], height: s[2], width: s[3], kernel: kernel, stride: stride ?? kernel,
                              padding: 0, dilation: 1, outChannels: s[1])
        guard window.outHeight >= 1 && window.outWidth >= 1 else { return tape.fail("avgPool2d: a \(kernel)×\(kernel) window does not fit \(s)") }
        return averagePool(window)
    }

    /// The mean of each plane (PyTorch's `nn.AdaptiveAvgPool2d(1)`, global average pooling).
    ///
    /// Shape: [N, C, H, W] → [N, C, 1, 1].
    public func adaptiveAvgPool2d() -> Variable {
        guard !tape.failed else { return tape.standIn() }
        let s = shape
        guard s.rank == 4, s[2] >= 1, s[3] >= 1 else { return tape.fail("adaptiveAvgPool2d needs [N, C, H, W], got \(s)") }
        guard s[2] == s[3] else { return tape.fail("adaptiveAvgPool2d to 1×1 takes square planes here, got \(s)") }
        return averagePool(Window2D(batch: s[0], channels: s[1], height: s[2], width: s[3], kernel: s[2], stride: s[2],
                                    padding: 0, dilation: 1, outChannels: s[1]))
    }

    private func averagePool(_ window: Window2D) -> Variable {
        let flag = Int32(tape.windows.count)
        tape.windows.append(window)
        let planes = window.batch * window.channels, oh = window.outHeight, ow = window.outWidth, k = window.kernel
        let (out, y) = tape.record(.avgPool2d, self, shape: Shape(window.batch, window.channels, oh, ow), flag: flag)
        let x = tape.data(id), scale = 1 / Float(k * k)
        for p in 0..<planes {
            let src = x + p * window.height * window.width
            for i in 0..<oh {
                for j in 0..<ow {
                    var total: Float = 0
                    for di in 0..<k {
                        let row = src + (i * window.stride + di) * window.width + j * window.stride
                        for dj in 0..<k { total += row[dj] }
                    }
                    y[(p * oh + i) * ow + j] = total * scale
                }
            }
        }
        return out
    }
}

extension Tape {
    /// Backward of `conv2d`: per sample and group, dW += dY · colᵀ, dX += col2im(Wᵀ · dY),
    /// dBias += Σ dY over samples and positions.
    func convolutionBackward(_ n: Node, _ g: UnsafeMutablePointer<Float>) {
        let window = windows[Int(n.flag)]
        let (o, positions, groups) = (window.outChannels, window.positions, window.groups)
        let og = o / groups, plane = window.height * window.width
        let x = data(n.a), w = data(n.b)
        let dw = gradient(n.b), dx = gradient(n.a)
        let col = arena.allocate(window.patch * positions, zeroed: false)
        for sample in 0..<window.batch {
            for group in 0..<groups {
                let dy = g + (sample * o + group * og) * positions
                if let dw {
                    window.im2col(x + (sample * window.channels + group * window.groupChannels) * plane, into: col)
                    BLAS.gemm(transposeA: false, transposeB: true, m: og, n: window.patch, k: positions, a: dy, lda: positions,
                              b: col, ldb: positions, beta: 1, c: dw + group * og * window.patch, ldc: window.patch)
                }
                if let dx {
                    BLAS.gemm(transposeA: true, transposeB: false, m: window.patch, n: positions, k: og,
                              a: w + group * og * window.patch, lda: window.patch, b: dy, ldb: positions, beta: 0, c: col, ldc: positions)
                    window.col2imAdd(col, into: dx + (sample * window.channels + group * window.groupChannels) * plane)
                }
            }
        }
        if let db = gradient(n.c) {
            for sample in 0..<window.batch {
                for c in 0..<o {
                    let src = g + (sample * o + c) * positions
                    var total: Float = 0
                    for i in 0..<positions { total += src[i] }
                    db[c] += total
                }
            }
        }
    }

    /// Backward of `maxPool2d`: each output's gradient goes to the input element that won.
    func maxPoolBackward(_ n: Node, _ g: UnsafeMutablePointer<Float>) {
        guard let dx = gradient(n.a), let argmax = n.saved else { return }
        let window = windows[Int(n.flag)]
        let outputs = window.outHeight * window.outWidth, plane = window.height * window.width
        for p in 0..<(window.batch * window.channels) {
            for i in 0..<outputs { dx[p * plane + Int(argmax[p * outputs + i])] += g[p * outputs + i] }
        }
    }

    /// Backward of average pooling: each output's gradient, ÷ K², to every element of its window.
    func averagePoolBackward(_ n: Node, _ g: UnsafeMutablePointer<Float>) {
        guard let dx = gradient(n.a) else { return }
        let window = windows[Int(n.flag)]
        let oh = window.outHeight, ow = window.outWidth, k = window.kernel, scale = 1 / Float(k * k)
        for p in 0..<(window.batch * window.channels) {
            let dst = dx + p * window.height * window.width
            for i in 0..<oh {
                for j in 0..<ow {
                    let share = g[(p * oh + i) * ow + j] * scale
                    for di in 0..<k {
                        let row = dst + (i * window.stride + di) * window.width + j * window.stride
                        for dj in 0..<k { row[dj] += share }
                    }
                }
            }
        }
    }
}
