// joint.nas: a joint search over the architecture and the training recipe,
// with the candidates evaluated by an external program instead of nasc's
// own trainer.
//
// Try (from the repository root, since the evaluator path is relative):
//        nasc check  examples/joint.nas --decisions
//        nasc sample examples/joint.nas --count 3
//        nasc search examples/joint.nas
//        nasc search examples/joint.nas --evaluator 'pipe("python3 examples/evaluators/toy_eval.py --pipe")'
//
// The decisions:
//     width, kernel, act     the two conv layers' base width (16, 24 or 32),
//                            kernel (3 or 5) and activation (relu or hswish)
//     drop                   dropout before the classifier, in [0.0, 0.5]
//     train.batch            64, 128 or 256
//     train.lr               a float in [1e-3, 0.3], sampled log-uniformly
//     train.momentum         0.0, 0.5 or 0.9
//     train.weight_decay     a float in [1e-5, 1e-3], sampled log-uniformly
// Points: 3 * 2 * 2 architectures times 3 batch sizes times 3 momenta = 108
// discrete combinations, times three continuous decisions (drop, train.lr,
// train.weight_decay).
//
// The evaluator.  `evaluator = exec("...")` starts the command once per trial,
// writes the point as JSON on its stdin, and reads its metrics from the last
// line of its stdout, e.g. {"accuracy": 0.874, "train_time": 0.01}.  nasc
// adds the point's own params, flops and memory, so the `require` below can
// use params although the evaluator never reports it.  The toy evaluator in
// examples/evaluators/toy_eval.py scores a point with a made-up formula in
// milliseconds; replace it with a script that trains the point in your own
// framework, or looks it up in a tabular benchmark.

import std.blocks        // ConvBNAct

space Joint(x: Tensor[1, 28, 28]) -> Tensor[10] {
    let width  = choice {16, 24, 32}
    let kernel = choice {3, 5}
    let act    = choice {relu, hswish}
    let drop   = choice [0.0, 0.5]          // a continuous architecture decision
    h = ConvBNAct(x, width, kernel, act)    // Tensor[width, 28, 28]   (ConvBNAct#1)
    h = maxpool(h, 2)                       // Tensor[width, 14, 14]
    h = ConvBNAct(h, width * 2, kernel, act)   // Tensor[2 * width, 14, 14]   (ConvBNAct#2)
    h = maxpool(h, 2)                       // Tensor[2 * width, 7, 7]
    return dense(dropout(global_avgpool(h), drop), 10)
}

// The recipe is part of the point: the train section's choices are decisions
// labelled train.<key>, passed to the evaluator with the rest.
train {
    data         = fashion_mnist
    epochs       = 2
    batch        = choice {64, 128, 256}          // train.batch
    lr           = choice [1e-3, 0.3] log         // train.lr
    momentum     = choice {0.0, 0.5, 0.9}         // train.momentum
    weight_decay = choice [1e-5, 1e-3] log        // train.weight_decay
    // Later keys may use earlier ones, decisions included: the optimizer is
    // built from three recipe decisions.
    optimizer    = sgd(lr = lr, momentum = momentum, weight_decay = weight_decay)
}

search {
    strategy  = evolution(population = 12, sample = 3)
    trials    = 30
    evaluator = exec("python3 examples/evaluators/toy_eval.py")
    objective = maximize accuracy
    // The 5x5 second conv at width 32 has 32 * 64 * 25 = 51,200 weights: those
    // points are infeasible, whatever accuracy the evaluator reports.
    require   params < 50k
}
