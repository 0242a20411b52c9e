extension Dataset {
    /// Throws unless the rows and targets are as the initializer checked them: `features` and
    /// `targets` are public properties, which may have changed since (a reshape, an edit). The
    /// trainer and the evaluator check their data with it; `what` names it in errors ("test").
    public func checkContents(_ what: String) throws {
        let data = self
        guard data.features.shape.rank >= 2, data.features.shape.rank <= 4, (1...2).contains(data.targets.shape.rank),
              data.features.shape[0] == data.targets.shape[0] else {
            throw ConfigurationError("the \(what) data's features \(data.features.shape) and targets \(data.targets.shape) "
                                     + "do not have one row each per sample")
        }
        if data.task == .classification {
            // Class indices are checked here, where the caller's data enters.
            let classes = data.classLabels.count
            try data.targets.withUnsafeBufferPointer { y in
                if let i = y.firstIndex(where: { !($0 >= 0 && $0 < Float(classes) && $0 == $0.rounded()) }) {
                    throw ConfigurationError("the \(what) data's row \(i / max(data.targetWidth, 1)) has class index \(y[i]); "
                                             + "class indices must be whole numbers in 0..<\(classes)")
                }
            }
            if classes < 2 {
                throw ConfigurationError("the \(what) data's target '\(data.targetName)' has only one class (\(data.classLabels.first ?? "none")): "
                                         + "a classifier needs at least two")
            }
        } else {
            try data.targets.withUnsafeBufferPointer { y in
                if let i = Kernels.firstIndex(in: y) {
                    throw ConfigurationError("the \(what) data's row \(i / max(data.targetWidth, 1)) has target \(y[i]), not a finite number")
                }
            }
        }
    }
}
