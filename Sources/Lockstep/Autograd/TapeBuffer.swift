/// The growable storage of a tape's records (values, operations, windows): plain memory that a
/// step fills from the start and `removeAll` empties without freeing, for records of trivial
/// types only. An `Array` here checked its buffer's uniqueness at every append and emptied itself
/// through its generic `replaceSubrange` — together 3 % of a small model's step (perf).
///
/// Owned by one tape, which frees it in its `deinit`; copies share the memory (never make one
/// that outlives the tape).
@usableFromInline struct TapeBuffer<Element>: RandomAccessCollection {
    @usableFromInline var base: UnsafeMutablePointer<Element>
    @usableFromInline var capacity: Int
    @usableFromInline var count_ = 0

    init(capacity: Int) {
        precondition(_isPOD(Element.self), "a tape buffer holds trivial records only")
        self.capacity = Swift.max(capacity, 1)
        base = .allocate(capacity: self.capacity)
    }

    @inlinable var startIndex: Int { 0 }
    @inlinable var endIndex: Int { count_ }

    @inlinable subscript(i: Int) -> Element {
        get {
            precondition(i >= 0 && i < count_, "tape record \(i) of \(count_)")
            return base[i]
        }
        nonmutating set {
            precondition(i >= 0 && i < count_, "tape record \(i) of \(count_)")
            base[i] = newValue
        }
    }

    @inlinable mutating func append(_ element: Element) {
        if count_ == capacity { grow() }
        (base + count_).initialize(to: element)
        count_ += 1
    }

    @usableFromInline mutating func grow() {
        let larger = UnsafeMutablePointer<Element>.allocate(capacity: 2 * capacity)
        larger.moveInitialize(from: base, count: count_)
        base.deallocate()
        base = larger
        capacity *= 2
    }

    /// Forgets every record (trivial: nothing to deinitialize); the memory stays.
    mutating func removeAll() { count_ = 0 }

    /// Frees the memory; the tape's `deinit` calls it once.
    func deallocate() { base.deallocate() }
}
