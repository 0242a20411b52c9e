import Lockstep

// 1. Data: the built-in line y = 0.7·x + 0.3 (plus a little noise), split 80/20.
let data = Dataset.linear(seed: 0)
let split = try data.split(testFraction: 0.2, seed: 0)

// 2. Model: one Linear layer; its weight and bias are parameters that require gradients.
let model = Sequential(seed: 42) {
    Linear(1, 1)
}

// 3. Loss function and optimizer.
let lossFunction = MSELoss()
let optimizer = SGD(model, lr: 0.1, momentum: 0.9)

// 4. The training loop: forward, loss, zero grads, backward, step.
let tape = Tape()
for epoch in 1...300 {
    tape.reset()  // forgets the last step's values, keeps their memory
    let prediction = model(tape.input(split.train.features))
    let loss = lossFunction(prediction, tape.input(split.train.targets))
    optimizer.zeroGrad()
    loss.backward()
    optimizer.step()
    if epoch % 100 == 0 { print("epoch \(epoch): loss \(loss.item)") }
}

// 5. Evaluation on the unseen test split.
let metrics = try Evaluator.evaluate(model, on: split.test, loss: lossFunction)
print("test \(metrics)")

// 6. A model file that `lockstep predict`, Python and PyTorch can load (`modelSpec`: the
//    architecture as a value, which every model of built-in layers has).
let document = ModelDocument(spec: model.modelSpec!, task: .regression, featureNames: data.featureNames,
                             targetName: data.targetName, standardization: nil, classLabels: [])
try SavedModel(model: model, document: document).save(to: "line.safetensors")
let state = model.stateDict()
print("weight \(state["0.weight"]!.item) (true 0.7) · bias \(state["0.bias"]!.item) (true 0.3)")
