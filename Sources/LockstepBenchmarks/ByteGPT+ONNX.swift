import Lockstep

// How a module of one's own exports to ONNX: its children, in the order `forward` calls them.
extension ByteGPT: ONNXExportable {
    func exportONNX(_ ids: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
        var x = try graph.export(pos, try graph.export(tok, ids, prefix: prefix + "tok."), prefix: prefix + "pos.")
        for (i, block) in blocks.enumerated() { x = try graph.export(block, x, prefix: prefix + "blocks.\(i).") }
        return try graph.export(head, try graph.export(lnF, x, prefix: prefix + "ln_f."), prefix: prefix + "head.")
    }
}
