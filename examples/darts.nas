// darts.nas: a DARTS-style cell space (Liu, Simonyan & Yang, ICLR 2019)
// built from the operations of std.cells, on Fashion-MNIST.
//
// Try:   nasc check  examples/darts.nas --decisions
//        nasc sample examples/darts.nas --count 1
//        nasc search examples/darts.nas
//
// A DARTS cell takes the outputs of the two previous cells, s0 and s1, and
// computes four intermediate nodes n2 .. n5.  Each node picks two inputs
// among the tensors before it (an *input choice*: a choice over tensors of
// one shape) and one operation for each input, and sums the two results.
// The cell's output concatenates the four nodes along the channels; a 1x1
// conv brings the channel count back to c.
//
// Each of the 3 cells (one per stage) makes its own decisions.  The cell is
// called once in the loop body, so its labels are NormalCell[i].<name>:
//     NormalCell[1].in3a    the first input of node n3 of cell 1: s0, s1 or n2
//     NormalCell[1].op3a    the operation applied to it: one of 7
// (DARTS itself shares one cell design across the network; nb201.nas shows
// how: choose at the top of the space and call the chosen block in the loop.
// Inputs cannot be chosen there, since they only exist inside the cell.)
//
// Points: node n_k has k inputs to pick from, twice, and 7 operations, twice:
//     per cell  (2*2 * 49) * (3*3 * 49) * (4*4 * 49) * (5*5 * 49) = 83,013,134,400
//     in all    83,013,134,400^3 = 572,058,491,602,669,224,338,755,584,000,000
// far beyond 2^64: `nasc check` prints it exactly without enumerating it.
// Unlike DARTS, a node may take the same input twice.

import std.cells         // sep_conv_3x3 ... avg_pool_3x3, all (Tensor[c, h, w]) -> Tensor[c, h, w]

// The cell.  Both inputs must have the same shape: the second parameter's
// c, h, w unify with the first's.  `zero` is left out of the operations, as
// DARTS leaves it out of the final cell.
block NormalCell(s0: Tensor[c, h, w], s1: Tensor[c, h, w]) -> Tensor[c, h, w] {
    let in2a = choice {s0, s1}
    let op2a = choice {skip, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5, max_pool_3x3, avg_pool_3x3}
    let in2b = choice {s0, s1}
    let op2b = choice {skip, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5, max_pool_3x3, avg_pool_3x3}
    let n2 = op2a(in2a) + op2b(in2b)

    let in3a = choice {s0, s1, n2}
    let op3a = choice {skip, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5, max_pool_3x3, avg_pool_3x3}
    let in3b = choice {s0, s1, n2}
    let op3b = choice {skip, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5, max_pool_3x3, avg_pool_3x3}
    let n3 = op3a(in3a) + op3b(in3b)

    let in4a = choice {s0, s1, n2, n3}
    let op4a = choice {skip, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5, max_pool_3x3, avg_pool_3x3}
    let in4b = choice {s0, s1, n2, n3}
    let op4b = choice {skip, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5, max_pool_3x3, avg_pool_3x3}
    let n4 = op4a(in4a) + op4b(in4b)

    let in5a = choice {s0, s1, n2, n3, n4}
    let op5a = choice {skip, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5, max_pool_3x3, avg_pool_3x3}
    let in5b = choice {s0, s1, n2, n3, n4}
    let op5b = choice {skip, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5, max_pool_3x3, avg_pool_3x3}
    let n5 = op5a(in5a) + op5b(in5b)

    let out = concat(n2, n3, n4, n5)                      // Tensor[4 * c, h, w]
    return batchnorm(conv2d(relu(out), c, kernel = 1, bias = false))
}

// Between stages: double the channels and halve the side with a strided 1x1
// conv (a simple stand-in for DARTS's reduction cell).  pad = same gives
// ceil(h / 2), written (h + 1) / 2.
block Reduce(x: Tensor[c, h, w]) -> Tensor[c * 2, (h + 1) / 2, (w + 1) / 2] {
    return batchnorm(conv2d(relu(x), c * 2, kernel = 1, stride = 2, bias = false))
}

space DartsLike(x: Tensor[1, 28, 28]) -> Tensor[10] {
    let stem = batchnorm(conv2d(x, 16, bias = false))   // Tensor[16, 28, 28]
    s0 = stem
    s1 = stem
    for i in 1..3 {                          // 16x28x28, 32x14x14, 64x7x7
        if i > 1 {
            s0 = Reduce(s0)                  // two calls in one body: Reduce#1 and Reduce#2
            s1 = Reduce(s1)
        }
        let out = NormalCell(s0, s1)         // decisions NormalCell[i].in2a ... NormalCell[i].op5b
        s0 = s1                              // the cell before the last one ...
        s1 = out                             // ... and the last one feed the next cell
    }
    return dense(global_avgpool(relu(s1)), 10)
}

train {
    data      = fashion_mnist
    epochs    = 1
    batch     = 96                           // the DARTS evaluation batch size
    optimizer = sgd(lr = 0.025, momentum = 0.9)   // the DARTS learning rate
}

search {
    strategy  = evolution(population = 20, sample = 5)
    trials    = 40
    objective = maximize accuracy
    require   params < 200k
}
