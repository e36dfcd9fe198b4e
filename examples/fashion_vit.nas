// fashion_vit.nas: a small vision-transformer space on Fashion-MNIST.
//
// Try:   nasc check examples/fashion_vit.nas --decisions
//        nasc search examples/fashion_vit.nas
//
// Each 28x28 image is cut into 7x7 patches: 16 tokens of 49 pixels, each
// projected to `width` and given a learned position code (std.transformer's
// PatchEmbed).  Then `depth` encoder layers, each with its own decisions
// (the heterogeneous layers of FlexiBERT):
//     width              32, 48 or 64, the token width of the whole network
//     depth              1 to 3 encoder layers
//     heads[i]           1, 2 or 4 attention heads (each divides every width)
//     hidden[i]          the feed-forward width, 64 or 128
//     prenorm[i]         layernorm before (true) or after (false) each residual
//     conv[i]            a depthwise convolution over the tokens instead of attention
// and a classifier on the mean token.

import std.transformer

space FashionViT(x: Tensor[1, 28, 28]) -> Tensor[10] {
    let width = choice {32, 48, 64}
    let depth = choice 1..3
    h = PatchEmbed(x, 7, width)                // Tensor[16, width]
    for i in 1..depth {
        let heads   = choice {1, 2, 4}
        let hidden  = choice {64, 128}
        let prenorm = choice {true, false}
        let conv    = choice {false, true}
        h = EncoderLayer(h, heads, hidden, prenorm, conv)
    }
    return Classifier(h, 10)
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
