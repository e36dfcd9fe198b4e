// fashion_mlp.nas: a multilayer perceptron for Fashion-MNIST, where the
// depth, the width of every layer and the activation are searched.
//
// Try:   nasc check examples/fashion_mlp.nas --decisions
//        nasc sample examples/fashion_mlp.nas --count 3 --seed 1
//        nasc search examples/fashion_mlp.nas
//
// Points: for depth d there are 4^d ways to pick the widths, and 3
// activations for any depth:  3 * (4 + 16 + 64) = 252 points.
//
// The decisions (their labels are what a point, `nasc sample` and the
// search store show):
//     depth                  1, 2 or 3
//     act                    relu, gelu or tanh
//     width[1] .. width[3]   64, 128, 256 or 512; width[i] is only active
//                            when i <= depth, so with depth = 1 a point has
//                            just width[1].
// A point reads:
//     {"space": "FashionMLP", "decisions": {"depth": 2, "act": "gelu", "width[1]": 256, "width[2]": 64}}

// A space is like a function from one input sample to one output: here a
// 1x28x28 greyscale image (the batch dimension is never written) to the 10
// class scores.  The checker proves that every point returns Tensor[10].
space FashionMLP(x: Tensor[1, 28, 28]) -> Tensor[10] {
    let depth = choice 1..3                 // an integer decision, 1..3 inclusive: label "depth"
    let act   = choice {relu, gelu, tanh}   // activations are values of type Act: label "act"
    h = flatten(x)                          // Tensor[1, 28, 28] -> Tensor[784]
    for i in 1..depth {                     // the loop bound may depend on a decision
        let width = choice {64, 128, 256, 512}   // inside a loop: labels width[1], width[2], ...
        h = act(dense(h, width))            // rebinding h: its shape becomes Tensor[width]
    }
    return dense(h, 10)                     // the 10 class scores (softmax is in the loss)
}

// How one candidate is trained.  No name is needed: the file has one space.
train {
    data      = fashion_mnist               // the builtin dataset (package dataset-fashion-mnist)
    split     = 0.1                         // 10% of the training set is held out for validation
    epochs    = 1
    batch     = 128
    optimizer = sgd(lr = 0.05, momentum = 0.9)
}

// How the space is searched.
search {
    strategy  = evolution(population = 16, sample = 4)   // regularized evolution (Real et al. 2019)
    trials    = 40                          // 40 of the 252 points are trained
    objective = maximize accuracy           // validation accuracy
    require   params < 300k                 // points above 300,000 parameters are infeasible:
                                            // a first layer of 512 units alone has 784*512 + 512 = 401,920
}
