/// Gradient-norm clipping (PyTorch's `clip_grad_norm_`): when the global L2 norm of the
/// gradients exceeds `maxNorm`, every gradient is scaled by maxNorm / (norm + 1e-6).
public enum GradientClipping {
    /// Clips `gradients` in place and returns the norm before clipping.
    @discardableResult
    public static func clipNorm(_ gradients: UnsafeMutableBufferPointer<Float>, maxNorm: Float) -> Float {
        let norm = Float(Kernels.sumOfSquares(gradients.baseAddress!, gradients.count).squareRoot())
        scale(gradients, norm: norm, maxNorm: maxNorm)
        return norm
    }

    /// Scales `gradients` (all or one shard) given the global `norm` computed elsewhere — the
    /// engine sums each shard's squares with an all-reduce first.
    public static func scale(_ gradients: UnsafeMutableBufferPointer<Float>, norm: Float, maxNorm: Float) {
        let coefficient = maxNorm / (norm + 1e-6)
        guard coefficient < 1 else { return }
        for i in gradients.indices { gradients[i] *= coefficient }
    }
}
