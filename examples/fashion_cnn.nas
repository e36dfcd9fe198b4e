// fashion_cnn.nas: a small convolutional space with optional residual blocks,
// searched for accuracy and measured latency together (a Pareto front).
//
// Try:   nasc check examples/fashion_cnn.nas --decisions
//        nasc sample examples/fashion_cnn.nas --count 3
//        nasc search examples/fashion_cnn.nas
//
// The decisions:
//     act                      relu or swish, shared by every layer
//     stages                   1, 2 or 3
//     width[s]  (s = 1..3)     16, 32 or 48 filters in stage s
//     kernel[s]                3 or 5
//     residual[s]              false or true: add a residual block to stage s
//     train.lr                 a float in [0.01, 0.2], sampled log-uniformly
// Stage s's decisions are active only when s <= stages.
//
// Points: a stage has 3 * 2 * 2 = 12 variants, so the architectures number
// 2 * (12 + 12^2 + 12^3) = 3,768; train.lr is continuous, so `nasc check`
// reports it as such rather than folding it into the count.
// A point reads:
//     {"space": "FashionCNN", "decisions": {"act": "swish", "stages": 1,
//      "width[1]": 32, "kernel[1]": 5, "residual[1]": true, "train.lr": 0.05}}

import std.blocks        // ConvBNAct(x, filters, kernel, act) comes from the standard library

// A user block.  `x: Tensor[c, h, w]` binds c, h and w by unification at each
// call, and they are ordinary ints in the body (`ConvBNAct(x, c, ...)`).  The
// return type promises the input's shape; the checker proves it at every call.
// `act: Act` takes an activation as a value, called like a block: `act(x)`.
block Residual(x: Tensor[c, h, w], kernel: int, act: Act) -> Tensor[c, h, w] {
    let y = ConvBNAct(x, c, kernel, act)                // conv-BN-act, c -> c channels
    y = batchnorm(conv2d(y, c, kernel = kernel))        // pad = same keeps h and w
    return act(x + y)                                   // x and y are both Tensor[c, h, w]
}

space FashionCNN(x: Tensor[1, 28, 28]) -> Tensor[10] {
    let act    = choice {relu, swish}   // label "act"
    let stages = choice 1..3            // label "stages"
    h = x
    for s in 1..stages {
        let width    = choice {16, 32, 48}     // width[s]
        let kernel   = choice {3, 5}           // kernel[s]
        let residual = choice {false, true}    // residual[s]
        h = ConvBNAct(h, width, kernel, act)   // Tensor[width, h, w]
        if residual {
            h = Residual(h, 3, act)            // only runs when residual[s] is true
        }
        h = maxpool(h, 2)                      // halves the side: 28 -> 14 -> 7 -> 3
    }
    // global_avgpool: Tensor[width, h, w] -> Tensor[width], whatever the last width is.
    return dense(global_avgpool(h), 10)
}

train {
    data      = fashion_mnist
    epochs    = 1
    batch     = 128
    lr        = choice [0.01, 0.2] log    // a recipe decision, labelled train.lr
    optimizer = sgd(lr = lr, momentum = 0.9)   // a later key may use an earlier one
}

search {
    strategy  = nsga2(population = 16)    // NSGA-II, a multi-objective evolutionary strategy
    trials    = 48
    objective = maximize accuracy, minimize latency   // two objectives: the result is a Pareto front
}
