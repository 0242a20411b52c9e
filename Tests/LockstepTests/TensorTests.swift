import Testing
@testable import Lockstep

@Suite struct ShapeSpecification {
    @Test func shapesCountTheirElements() {
        #expect(Shape(3, 4).count == 12)
        #expect(Shape(5).count == 5)
        #expect(Shape.scalar.count == 1)
        #expect(Shape([2, 3, 4]).count == 24)
        #expect(Shape(3, 4).description == "[3, 4]")
    }

    @Test func matrixViewsOfShapes() {
        #expect(Shape(3, 4).rows == 3 && Shape(3, 4).columns == 4)
        #expect(Shape(7).rows == 1 && Shape(7).columns == 7)
        #expect(Shape(0, 4).columns == 4)
    }
}

@Suite struct TensorSpecification {
    /// A plain triple loop: the reference for BLAS.
    func naiveMatmul(_ a: Tensor, _ b: Tensor, _ tA: Bool, _ tB: Bool) -> [Float] {
        let m = tA ? a.shape[1] : a.shape[0], k = tA ? a.shape[0] : a.shape[1]
        let n = tB ? b.shape[0] : b.shape[1]
        var out = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { for p in 0..<k {
            let x = tA ? a[p, i] : a[i, p], y = tB ? b[j, p] : b[p, j]
            out[i * n + j] += x * y
        } } }
        return out
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func matmulMatchesTheDefinitionWithEveryTranspose(tA: Bool, tB: Bool) {
        var rng = RandomGenerator(seed: 1)
        let a = Tensor.normal(tA ? Shape(5, 3) : Shape(3, 5), using: &rng)
        let b = Tensor.normal(tB ? Shape(4, 5) : Shape(5, 4), using: &rng)
        let c = a.matmul(b, transposeA: tA, transposeB: tB)
        #expect(c.shape == Shape(3, 4))
        for (x, y) in zip(c.scalars, naiveMatmul(a, b, tA, tB)) { #expect(abs(x - y) < 1e-5) }
    }

    @Test func elementwiseOpsBroadcastARowVectorAndAScalar() {
        let x = Tensor([[1, 2], [3, 4]])
        #expect((x + Tensor([10, 20])).scalars == [11, 22, 13, 24])
        #expect((x - Tensor([1])).scalars == [0, 1, 2, 3])
        #expect((x * x).scalars == [1, 4, 9, 16])
        #expect((x * 2).scalars == [2, 4, 6, 8])
    }

    @Test func reductionsAlongAxes() {
        let x = Tensor([[1, 2, 3], [4, 5, 6]])
        #expect(x.sum() == 21)
        #expect(x.mean() == 3.5)
        #expect(x.sum(alongAxis: 0).scalars == [5, 7, 9])
        #expect(x.sum(alongAxis: 1).scalars == [6, 15])
        #expect(x.mean(alongAxis: 1).scalars == [2, 5])
        #expect(Tensor([[0, 3, 1], [7, 2, 7]]).argmaxRows() == [1, 0])
    }

    @Test func valueSemantics() {
        let a = Tensor([1, 2, 3])
        var b = a
        b[flat: 0] = 9
        #expect(a.scalars == [1, 2, 3])
        #expect(b.scalars == [9, 2, 3])
    }

    @Test func gatheringRows() {
        let x = Tensor([[1, 2], [3, 4], [5, 6]])
        #expect(x.gatherRows([2, 0]).scalars == [5, 6, 1, 2])
        #expect(Tensor([7, 8, 9]).gatherRows([1, 1]).scalars == [8, 8])
    }
}

@Suite struct RandomGeneratorSpecification {
    @Test func theSameSeedGivesTheSameStream() {
        var a = RandomGenerator(seed: 7), b = RandomGenerator(seed: 7), c = RandomGenerator(seed: 8)
        let xs = (0..<5).map { _ in a.next() }
        #expect(xs == (0..<5).map { _ in b.next() })
        #expect(xs != (0..<5).map { _ in c.next() })
    }

    @Test func stateRestoresTheStream() {
        var a = RandomGenerator(seed: 3)
        _ = a.next()
        var b = RandomGenerator(state: a.state)
        #expect(a.next() == b.next())
    }

    @Test func uniformAndNormalHaveTheirMoments() {
        var rng = RandomGenerator(seed: 11)
        let n = 100_000
        var su = 0.0, sn = 0.0, sn2 = 0.0
        for _ in 0..<n {
            let u = Double(rng.nextUniform())
            #expect(u >= 0 && u < 1)
            su += u
            let z = Double(rng.nextNormal())
            sn += z
            sn2 += z * z
        }
        #expect(abs(su / Double(n) - 0.5) < 0.01)
        #expect(abs(sn / Double(n)) < 0.02)
        #expect(abs(sn2 / Double(n) - 1) < 0.02)
    }

    @Test func keyedStreamsDependOnEveryPartOfTheKey() {
        var a = RandomGenerator(seed: 1, 2, 3), b = RandomGenerator(seed: 1, 2, 3)
        var c = RandomGenerator(seed: 1, 2, 4), d = RandomGenerator(seed: 1, 3, 3)
        let x = a.next()
        #expect(x == b.next())
        #expect(x != c.next())
        #expect(x != d.next())
    }
}
