// fashion_seq.nas: a 1-D space on Fashion-MNIST read as sequences: each
// image is 28 time steps (its rows) of 28 values, Tensor[28, 28] (the
// IDX images [1, 28, 28] fit this input: leading 1s are dropped).
//
// Try:   nasc check examples/fashion_seq.nas --decisions
//        nasc search examples/fashion_seq.nas
//
// Two families share the space, as in keyword-spotting and time-series
// searches (MicroNAS, EfficientTDNN):
//     tcn = true     a temporal convolutional network on Tensor[28 features, 28 steps]:
//                    a conv1d stem of `width` filters, then `depth` blocks, each a
//                    separable conv1d (sep[i] = true) or a dilated residual block,
//                    with kernel[i] 3 or 5
//     tcn = false    a transformer on Tensor[28 steps, width]: per-step dense,
//                    sinusoidal positions, `depth` encoder layers with heads[i],
//                    causal[i] (each step sees only the rows above it) and
//                    a convolution or attention as token mixer (conv[i])

import std.transformer

space FashionSeq(x: Tensor[28, 28]) -> Tensor[10] {
    let width = choice {32, 64}
    let depth = choice 1..2
    let tcn   = choice {false, true}
    if tcn {
        let h = TCBlock(transpose(x), width, 3)          // Tensor[width, 28]
        for i in 1..depth {
            let sep    = choice {true, false}
            let kernel = choice {3, 5}
            if sep {
                h = SepConv1d(h, width, kernel)
            } else {
                h = TCResidual(h, kernel, dilation = 2)
            }
        }
        return dense(global_avgpool(h), 10)
    }
    let s = positional(dense(x, width), sinusoidal = true)   // Tensor[28, width]
    for i in 1..depth {
        let heads  = choice {2, 4}
        let causal = choice {false, true}
        let conv   = choice {false, true}
        s = EncoderLayer(s, heads, 2 * width, conv = conv, causal = causal, kernel = 5)
    }
    return Classifier(s, 10)
}

train {
    data      = fashion_mnist
    epochs    = 1
    batch     = 128
    data_fraction = 0.33       // a third of the training set per trial: a search of minutes
    optimizer = adam(lr = 2e-3)
}

search {
    strategy  = random
    trials    = 6
    objective = maximize accuracy
}
