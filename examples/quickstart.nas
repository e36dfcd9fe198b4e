// quickstart.nas: the smallest useful search, for a first run.  A one- or
// two-layer perceptron on Fashion-MNIST; 12 candidates of at most ~110k
// parameters, one epoch each on half of the data, so the whole search is
// quick.
//
// Try:   nasc check  examples/quickstart.nas --decisions
//        nasc sample examples/quickstart.nas --count 3 --seed 7
//        nasc search examples/quickstart.nas
//
// The decisions:
//     depth                  1 or 2 hidden layers
//     act                    relu or gelu, for every hidden layer
//     width[1], width[2]     32, 64 or 128 units (width[2] only when depth = 2)
// Points: 2 * (3 + 3 * 3) = 24.
// A point reads:
//     {"space": "Quickstart", "decisions": {"depth": 2, "act": "relu", "width[1]": 128, "width[2]": 64}}

import std.blocks        // MLPBlock(x, width, act): dense, then the activation

space Quickstart(x: Tensor[1, 28, 28]) -> Tensor[10] {
    let depth = choice 1..2
    let act   = choice {relu, gelu}
    h = flatten(x)                           // Tensor[784]
    for i in 1..depth {
        let width = choice {32, 64, 128}     // width[1], width[2]
        h = MLPBlock(h, width, act)          // Tensor[width]
    }
    return dense(h, 10)
}

train {
    data          = fashion_mnist
    split         = 0.1                  // 10% of the training set is held out for validation
    data_fraction = 0.5                  // use half of the training data (extension E5)
    epochs        = 1                    // one pass: enough to rank such small nets
    batch         = 256                  // large batches make an epoch fast
    optimizer     = sgd(lr = 0.1, momentum = 0.9)
    seed          = 1                    // the same seed gives the same metrics
}

search {
    strategy  = evolution(population = 4, sample = 2)   // regularized evolution (Real et al. 2019)
    trials    = 12
    objective = maximize accuracy
    // A hard limit.  784*128 + 128 = 100,480 parameters for a first layer of
    // 128 units; with a second layer of 128 (16,512 more) and the output
    // layer (1,290) that is 118,282, so "128 then 128" is infeasible.
    require   params < 110k
}
