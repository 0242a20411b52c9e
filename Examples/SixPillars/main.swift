// The six pillars of PyTorch's workflow, in Lockstep: the program the README shows.
import Lockstep

// 1. Data: the built-in straight line y = 0.7·x + 0.3 (plus a little noise), split 80/20.
let data = Dataset.linear(seed: 0)
let split = try data.split(testFraction: 0.2, seed: 0)
print("[1/6] Data       \(data.count) rows → train \(split.train.count) / test \(split.test.count)")

// 2. Model: one Linear layer; its weight and bias are parameters that require gradients.
let model = Sequential(seed: 42) {
    Linear(1, 1)
}
print("[2/6] Model      \(model) · \(model.parameterCount) parameters")

// 3. Loss and optimizer.
let lossFunction = MSELoss()
let optimizer = SGD(model, lr: 0.1, momentum: 0.9)
print("[3/6] Objective  mse · SGD(lr 0.1, momentum 0.9)")

// 4. The training loop: forward, loss, zero grads, backward, step — on a tape that is reset
//    (not reallocated) every step.
let tape = Tape()
let x = split.train.features, y = split.train.targets
for epoch in 1...300 {
    tape.reset()
    let prediction = model(tape.input(x))
    let loss = lossFunction(prediction, tape.input(y))
    optimizer.zeroGrad()
    loss.backward()
    optimizer.step()
    if epoch % 100 == 0 { print("[4/6] Training   epoch \(epoch) · loss \(loss.item)") }
}

// 5. Evaluation on the unseen test split.
let metrics = Evaluator.evaluate(model, on: split.test, loss: lossFunction)
print("[5/6] Evaluate   test \(metrics)")

// 6. The learned parameters, by PyTorch name, beside the truth.
let state = model.stateDict()
let weight = state["0.weight"]!.item, bias = state["0.bias"]!.item
print("[6/6] Result     weight \(weight) (true 0.7) · bias \(bias) (true 0.3)")
