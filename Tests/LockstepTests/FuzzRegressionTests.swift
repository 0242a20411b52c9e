import Foundation
import Lockstep
import Testing

/// Inputs that crashed a reader (found by fuzzing, or of a class it found): each must now be a
/// clean error. The fuzzers are in Fuzz/ (`Fuzz/run.sh`).
@Suite struct FuzzRegressions {
    /// A version-1 .npy file: magic, version, the header's length, then the header padded with
    /// spaces and a newline to 128 bytes (as numpy writes it).
    static func npy(shape: String) -> Data {
        var header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }".utf8)
        header += Array(repeating: UInt8(ascii: " "), count: 117 - header.count) + [UInt8(ascii: "\n")]
        return Data([0x93] + Array("NUMPY".utf8) + [0x01, 0x00, UInt8(header.count), 0x00] + header)
    }

    /// A safetensors file: the header's length (8 bytes, little-endian), the header, the data.
    static func safetensors(_ header: String, data: [UInt8] = []) -> Data {
        let json = Array(header.utf8)
        return Data(withUnsafeBytes(of: UInt64(json.count).littleEndian, Array.init) + json + data)
    }

    @Test func anNPYShapeWhoseByteCountOverflowsIsAnError() throws {
        // 4611686018427387904 × 4 bytes overflowed Int (an arithmetic-overflow trap).
        let data = Self.npy(shape: "(0, 4611686018427387904)")
        #expect(data.count == 128)
        let error = try #require(throws: DataError.self) { try NPY.parse(data, name: "x.npy") }
        #expect(error.message.contains("too large"))
        #expect(throws: DataError.self) { try NPY.parse(Self.npy(shape: "(4611686018427387904, 4)"), name: "x.npy") }
        #expect(throws: DataError.self) { try NPY.parse(Self.npy(shape: "(9223372036854775807, 9223372036854775807)"), name: "x.npy") }
    }

    @Test func anNPYDimensionOf2To31IsAnErrorEvenWithNoData() throws {
        // (2147483648, 0) needs 0 bytes, but a Shape holds 32-bit dimensions (a conversion trap).
        for shape in ["(2147483648, 0)", "(0, 2147483648)"] {
            let error = try #require(throws: DataError.self) { try NPY.parse(Self.npy(shape: shape), name: "x.npy") }
            #expect(error.message.contains("too large"))
        }
        #expect(try NPY.parse(Self.npy(shape: "(2147483647, 0)"), name: "x.npy").shape == Shape(2147483647, 0))
    }

    @Test func aSafeTensorsTensorOfMoreThan4DimensionsIsAnErrorWhenRead() throws {
        // Shape([Int]) takes at most 4 dimensions (a precondition trap in tensor(_:)).
        let file = try SafeTensors.parse(Self.safetensors(#"{"t":{"dtype":"F32","shape":[1,1,1,1,0],"data_offsets":[0,0]}}"#),
                                         name: "x.safetensors")
        let error = try #require(throws: FileError.self) { try file.tensor("t") }
        #expect(error.description.contains("at most 4"))
    }

    @Test func aSafeTensorsDimensionOf2To31IsAnErrorWhenRead() throws {
        // Zero bytes, so the file is valid; Shape's 32-bit dimensions (or its product) would trap.
        // (The reader's byte count, multiplied from the left, already refuses [2147483647, 2147483647, 2147483647, 0].)
        for shape in ["[2147483648,0]", "[0,2147483647,2147483647,2147483647]"] {
            let file = try SafeTensors.parse(Self.safetensors(#"{"t":{"dtype":"F32","shape":\#(shape),"data_offsets":[0,0]}}"#),
                                             name: "x.safetensors")
            #expect(throws: FileError.self) { try file.tensor("t") }
        }
        let file = try SafeTensors.parse(Self.safetensors(#"{"t":{"dtype":"F32","shape":[2147483647,0],"data_offsets":[0,0]}}"#),
                                         name: "x.safetensors")
        #expect(try file.tensor("t").shape == Shape(2147483647, 0))
    }
}
