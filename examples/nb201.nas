// nb201.nas: the NAS-Bench-201 cell space (Dong & Yang, ICLR 2020): one
// 4-node cell, 6 edges, 5 operations an edge, the same cell stacked 5 times
// in each of 3 stages.  5^6 = 15,625 points.
//
// Try:   nasc check examples/nb201.nas --decisions
//        nasc sample examples/nb201.nas --count 3
//
// The cell is a small DAG: node 0 is the cell input, and each later node sums
// one operation applied to every earlier node:
//
//     node 1 = e1(node 0)
//     node 2 = e2(node 0) + e3(node 1)
//     node 3 = e4(node 0) + e5(node 1) + e6(node 2)      (the cell output)
//
// The decisions e1 .. e6 pick each edge's operation among zero (cut the edge),
// skip (identity), conv1x1, conv3x3 and avgpool3x3.  They are made once, at
// the top of the space, so all 15 cells share one cell design, as in the
// benchmark.  (Making the choices inside the loop would instead give every
// cell its own, labelled e1[1,1], e1[1,2], ...)
// A point reads:
//     {"space": "NB201", "decisions": {"e1": "conv3x3", "e2": "skip", "e3": "zero",
//      "e4": "avgpool3x3", "e5": "conv1x1", "e6": "conv3x3"}}
//
// The input is a 3x32x32 CIFAR image.  The train section is the benchmark's
// recipe on CIFAR-10, whose binary version (cifar-10-binary.tar.gz, unpacked
// to cifar-10-batches-bin/ beside this file) you download yourself; without
// it, use `check`, `sample` and `show`, or a search with an external
// evaluator that looks points up in the benchmark's table.

import std.cells         // zero, skip, conv1x1, conv3x3, avgpool3x3 (ReLU-Conv-BN ops, shape-preserving)

// Between stages: a residual block that doubles the channels and halves the
// side (the benchmark's "ResNet block" with stride 2).  The return type is an
// expression of the input's dimension names.
block ResidualReduce(x: Tensor[c, h, w]) -> Tensor[c * 2, h / 2, w / 2] {
    let y = batchnorm(conv2d(relu(x), c * 2, stride = 2))
    y = batchnorm(conv2d(relu(y), c * 2))
    return y + conv2d(avgpool(x, 2), c * 2, kernel = 1)   // shortcut: 2x2 avgpool, then 1x1 conv
}

space NB201(x: Tensor[3, 32, 32]) -> Tensor[10] {
    // Choices over blocks: every alternative has the type
    // (Tensor[c, h, w]) -> Tensor[c, h, w], so the chosen one can be called.
    let e1 = choice {zero, skip, conv1x1, conv3x3, avgpool3x3}   // node 0 -> node 1
    let e2 = choice {zero, skip, conv1x1, conv3x3, avgpool3x3}   // node 0 -> node 2
    let e3 = choice {zero, skip, conv1x1, conv3x3, avgpool3x3}   // node 1 -> node 2
    let e4 = choice {zero, skip, conv1x1, conv3x3, avgpool3x3}   // node 0 -> node 3
    let e5 = choice {zero, skip, conv1x1, conv3x3, avgpool3x3}   // node 1 -> node 3
    let e6 = choice {zero, skip, conv1x1, conv3x3, avgpool3x3}   // node 2 -> node 3
    h = batchnorm(conv2d(x, 16))            // the stem: 16 channels, 32x32
    for s in 1..3 {                         // 3 stages: 16x32x32, 32x16x16, 64x8x8
        if s > 1 {
            h = ResidualReduce(h)
        }
        for k in 1..5 {                     // 5 cells a stage
            let n1 = e1(h)
            let n2 = e2(h) + e3(n1)
            h = e4(h) + e5(n1) + e6(n2)
        }
    }
    return dense(global_avgpool(relu(batchnorm(h))), 10)
}

// NAS-Bench-201's training recipe (Dong & Yang, ICLR 2020), 200 epochs.
train {
    data      = cifar10("cifar-10-batches-bin")
    normalize = standard                    // per-channel mean and std of the training split
    augment   = [crop(pad = 4), flip]       // random crop and flip; DARTS adds cutout(16)
    epochs    = 200
    batch     = 256
    optimizer = sgd(lr = 0.1, momentum = 0.9, nesterov = true, weight_decay = 5e-4)
    schedule  = cosine
}
