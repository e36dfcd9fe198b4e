// fashion_supernet.nas: a Fashion-MNIST CNN space made for one-shot search
// (docs/one-shot.md): every kind of decision a supernet shares appears once.
//
// Try:   nasc supernet examples/fashion_supernet.nas --explain
//        nasc supernet examples/fashion_supernet.nas -o runs/fashion.super.safetensors
//        nasc search examples/fashion_supernet.nas --evaluator supernet:runs/fashion.super.safetensors
//
// The decisions, and how the supernet shares them:
//     stem                 16, 24 or 32 filters        width: leading channels
//     depth                1, 2 or 3 blocks            depth: the first d of 3 blocks
//     width[i]  (i <= depth) 16, 24 or 32 filters      width
//     kernel[i]            3 or 5                      kernel: centre of the 5x5 kernel
//     op[i]                skip, sep_conv_3x3, conv3x3 branch: one set of weights per op
// The recipe is fixed (a supernet shares weights, not recipes).

import std.blocks
import std.cells

space FashionSuper(x: Tensor[1, 28, 28]) -> Tensor[10] {
    let stem = choice {16, 24, 32}
    h = maxpool(ConvBNAct(x, stem, 3, relu), 2)            // Tensor[stem, 14, 14]
    let depth = choice 1..3
    for i in 1..depth {
        let width  = choice {16, 24, 32}
        let kernel = choice {3, 5}
        h = ConvBNAct(h, width, kernel, relu)              // Tensor[width, 14, 14]
        let op = choice {skip, sep_conv_3x3, conv3x3}
        h = op(h)                                          // same shape: an extra cell op
    }
    return dense(global_avgpool(h), 10)
}

train {
    data      = fashion_mnist
    split     = 0.1
    epochs    = 1
    batch     = 128
    optimizer = sgd(lr = 0.05, momentum = 0.9)
}

search {
    strategy  = evolution(population = 16, sample = 4)
    trials    = 100
    objective = maximize accuracy
}
