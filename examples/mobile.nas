// mobile.nas: a MnasNet-style space of inverted-residual stages, scored by
// accuracy scaled by measured latency (the MnasNet reward, w = -0.07,
// target 2 ms).
//
// Try:   nasc check examples/mobile.nas --decisions
//        nasc sample examples/mobile.nas --count 2
//        nasc search examples/mobile.nas
//
// Each of the 3 stages has its own decisions (MnasNet's "factorized
// hierarchical" space: layers inside a stage share them):
//     layers[s]    1, 2 or 3 MBConv layers in stage s
//     width[s]     16, 24, 32 or 48 output channels
//     expand[s]    expansion ratio 1, 3 or 6
//     kernel[s]    depthwise kernel 3 or 5
//     se[s]        squeeze-and-excitation off or on
// Points: 3 * 4 * 3 * 2 * 2 = 144 per stage, 144^3 = 2,985,984 in all.
// A point reads:
//     {"space": "Mobile", "decisions": {"layers[1]": 2, "width[1]": 24, "expand[1]": 6,
//      "kernel[1]": 3, "se[1]": false, "layers[2]": 1, ...}}

import std.blocks        // MBConv(x, filters, expand, kernel, stride, se)

space Mobile(x: Tensor[1, 28, 28]) -> Tensor[10] {
    h = ConvBNAct(x, 16, 3, relu)       // the stem: 3x3 conv to 16 channels, BN, ReLU
    for s in 1..3 {
        let layers = choice 1..3
        let width  = choice {16, 24, 32, 48}
        let expand = choice {1, 3, 6}
        let kernel = choice {3, 5}
        let se     = choice {false, true}
        // The first layer of a stage halves the side (28 -> 14 -> 7 -> 4) and
        // changes the width, so it has no residual add; MBConv decides that
        // itself from `stride == 1 and c == filters`.
        h = MBConv(h, width, expand, kernel, 2, se)
        // The other layers keep the shape and get the residual add.  With
        // layers[s] = 1 this loop runs zero times (2..1 is empty).
        for l in 2..layers {
            h = MBConv(h, width, expand, kernel, 1, se)
        }
    }
    return dense(global_avgpool(h), 10)
}

train {
    data   = fashion_mnist
    epochs = 1
    batch  = 128
    optimizer = adam(lr = 2e-3)
}

search {
    strategy  = reinforce               // a policy-gradient controller, as in MnasNet
    time      = 15m                     // a time budget instead of a trial count
    // MnasNet's reward ACC * (LAT / T)^w: twice the latency costs about 5% of
    // relative accuracy.  latency is measured on this machine, batch 1.
    objective = maximize accuracy * (latency / 2ms) ^ -0.07
    require   params < 500k
}
