// std.blocks: the standard building blocks of convolutional and dense networks.
//
// `import std.blocks` makes these blocks available:
//
//   ConvBNAct(x, filters, kernel, act, stride = 1)   conv -> batchnorm -> activation
//   BasicResidual(x, filters, stride)                ResNet basic block
//   MBConv(x, filters, expand, kernel, stride, se)   MobileNetV2 / MnasNet inverted residual
//   SqueezeExcite(x, ratio = 4)                      channel attention (squeeze-and-excitation)
//   MLPBlock(x, width, act, drop = 0.0)              dense -> activation (-> dropout)
//
// They are ordinary blocks written in the language, so the checker treats them
// exactly like user blocks: their shapes are proven at every call site, and
// `nasc show` lists the builtin operations they expand to.  None of them makes
// a choice of its own; every decision stays with the caller, which keeps the
// labels of a space short (`width[2]`, not `MBConv[2].width`).
//
// Conventions: convolutions use `pad = same` (the default), so a stride-s
// convolution maps a side of h to ceil(h / s), written (h + s - 1) / s.  A
// convolution followed by batchnorm has `bias = false`: the batchnorm shift
// makes the bias redundant, and the compiler folds the pair into one kernel.
// Three extensions of the language, described in docs/extensions.md, are
// used here: parameters with defaults (`stride: int = 1`, E1), the
// channel-wise product `x * s` in SqueezeExcite (E2), and `bias = false` on
// MBConv's `depthwise` (E6).

// ConvBNAct: the workhorse of most CNNs ("Conv-BN-ReLU", Ioffe & Szegedy 2015,
// batch normalization).  A kernel x kernel convolution with `filters` output
// channels, batchnorm, then the activation `act` (any Act value, which may
// itself be a decision of the caller: `let act = choice {relu, swish}`).
// With stride 1 the spatial size is kept.
block ConvBNAct(x: Tensor[c, h, w], filters: int, kernel: int, act: Act, stride: int = 1) ->
        Tensor[filters, (h + stride - 1) / stride, (w + stride - 1) / stride] {
    let y = conv2d(x, filters, kernel = kernel, stride = stride, bias = false)
    return act(batchnorm(y))
}

// BasicResidual: the basic block of ResNet-18/34 (He et al. 2016, "Deep
// Residual Learning for Image Recognition").  Two 3x3 conv-BN layers, the
// first one strided, and a shortcut added before the final ReLU.  The
// shortcut is the identity when the shapes already agree (stride 1 and as
// many channels in as out); otherwise a strided 1x1 conv + BN projects the
// input (ResNet's "option B").
block BasicResidual(x: Tensor[c, h, w], filters: int, stride: int) ->
        Tensor[filters, (h + stride - 1) / stride, (w + stride - 1) / stride] {
    let y = relu(batchnorm(conv2d(x, filters, kernel = 3, stride = stride, bias = false)))
    y = batchnorm(conv2d(y, filters, kernel = 3, bias = false))
    // On this path the checker knows stride == 1 and c == filters, which is
    // exactly what makes the identity shortcut `y + x` well-typed.
    if stride == 1 and c == filters {
        y = y + x
    } else {
        y = y + batchnorm(conv2d(x, filters, kernel = 1, stride = stride, bias = false))
    }
    return relu(y)
}

// SqueezeExcite: squeeze-and-excitation (Hu et al. 2018, "Squeeze-and-
// Excitation Networks").  Global average pooling squeezes each channel to one
// number, a two-layer bottleneck MLP (c -> c / ratio -> c) turns these into a
// gate in (0, 1) per channel, and the input is rescaled channel by channel.
//
// The bottleneck keeps at least one unit: with c < ratio it has 1 instead of
// c / ratio = 0 (as `max(1, ...)` in the MnasNet and EfficientNet code), so
// the block is defined for every c and never removes points from a space.
// ratio itself must be at least 1; a smaller one excludes the point.
block SqueezeExcite(x: Tensor[c, h, w], ratio: int = 4) -> Tensor[c, h, w] {
    require ratio >= 1
    let squeeze = c / ratio
    if squeeze < 1 {
        squeeze = 1
    }
    let s = relu(dense(global_avgpool(x), squeeze))
    s = sigmoid(dense(s, c))
    // x: Tensor[c, h, w] times s: Tensor[c] scales each channel of x by one
    // gate value (the channel-wise product, an extension: docs/extensions.md).
    return x * s
}

// MBConv: the inverted residual bottleneck of MobileNetV2 (Sandler et al.
// 2018), the building block that MnasNet (Tan et al. 2019) searches over.
//   1. a 1x1 "expansion" conv to c * expand channels, BN, ReLU6 (skipped
//      when expand == 1, as in MobileNetV2's first bottleneck);
//   2. a kernel x kernel depthwise conv carrying the stride, BN, ReLU6;
//   3. optionally squeeze-and-excitation on the expanded channels, with a
//      bottleneck of a quarter of them (as MnasNet and MobileNetV3 do);
//   4. a 1x1 "projection" conv to `filters` channels and BN, with no
//      activation (the "linear bottleneck");
//   5. a residual add when the input and output shapes agree.
block MBConv(x: Tensor[c, h, w], filters: int, expand: int, kernel: int, stride: int, se: bool) ->
        Tensor[filters, (h + stride - 1) / stride, (w + stride - 1) / stride] {
    // y has c channels when expand == 1 and c * expand otherwise: the same
    // number, so after this `if` its shape is [c * expand, h, w] on both paths.
    let y = x
    if expand != 1 {
        y = relu6(batchnorm(conv2d(x, c * expand, kernel = 1, bias = false)))
    }
    y = relu6(batchnorm(depthwise(y, kernel = kernel, stride = stride, bias = false)))
    if se {
        y = SqueezeExcite(y, 4)
    }
    y = batchnorm(conv2d(y, filters, kernel = 1, bias = false))
    if stride == 1 and c == filters {
        y = y + x
    }
    return y
}

// MLPBlock: one hidden layer of a multilayer perceptron: a dense layer of
// `width` units and the activation `act`, then dropout with probability
// `drop` (Srivastava et al. 2014) when it is positive.  Batchnorm is left
// out on purpose: plain dense + activation is the classic MLP layer, and it
// keeps small MLP spaces fast to train.
block MLPBlock(x: Tensor[n], width: int, act: Act, drop: float = 0.0) -> Tensor[width] {
    let y = act(dense(x, width))
    if drop > 0.0 {
        y = dropout(y, drop)
    }
    return y
}
