// std.cells: shape-preserving operations for cell-based search spaces.
//
// `import std.cells` makes these blocks available.  Every one of them has the
// block type
//
//     (Tensor[c, h, w]) -> Tensor[c, h, w]
//
// generic in c, h and w, so they can all be alternatives of one choice and be
// called on any feature map:  `let op = choice {skip, conv3x3, avgpool3x3}`,
// then `op(h)`.  The builtins `zero` (the "none" operation: all zeros, which
// effectively removes an edge) and `skip` (the identity) have the same type
// and belong to both sets below without being defined here.
//
//   NAS-Bench-201 (Dong & Yang, ICLR 2020):
//       zero, skip, conv1x1, conv3x3, avgpool3x3
//   DARTS (Liu, Simonyan & Yang, ICLR 2019):
//       zero, skip, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5,
//       max_pool_3x3, avg_pool_3x3
//
// The helpers ReLUConvBN, SepConv and DilConv take the kernel size as an
// extra int parameter; they are public so that spaces can build variants
// (a 7x7 separable conv is `SepConv(x, 7)`).  Each module is a namespace:
// a file that defines its own SepConv uses it, and the operations below
// keep calling this module's (docs/language-guide.md, "Modules").
//
// All convolutions here are followed by batchnorm, so they have no bias;
// all use `pad = same` (the default), which keeps h and w at stride 1, also
// with dilation 2.  `depthwise` with `dilation` and `bias` uses extension E6
// (docs/extensions.md).  Pooling uses a 3x3 window, stride 1 and padding 1, which
// keeps the size too; `avgpool` averages over the window's in-bounds pixels
// only (padding is excluded), as both papers' code does.

// ----- building blocks shared by the two sets -----

// ReLUConvBN: the pre-activation "ReLU-Conv-BN" order of NAS-Bench-201 and
// DARTS: the activation comes first and batchnorm last, so every edge of a
// cell ends normalised.  kernel x kernel conv, c -> c channels.
block ReLUConvBN(x: Tensor[c, h, w], kernel: int) -> Tensor[c, h, w] {
    return batchnorm(conv2d(relu(x), c, kernel = kernel, bias = false))
}

// SepConv: the DARTS separable convolution, a depthwise-separable conv
// (Chollet 2017) applied twice: (ReLU, depthwise kernel x kernel, pointwise
// 1x1, BN), then the same again.  `depthwise` is conv2d with groups = c.
block SepConv(x: Tensor[c, h, w], kernel: int) -> Tensor[c, h, w] {
    let y = depthwise(relu(x), kernel = kernel, bias = false)
    y = batchnorm(conv2d(y, c, kernel = 1, bias = false))
    y = depthwise(relu(y), kernel = kernel, bias = false)
    return batchnorm(conv2d(y, c, kernel = 1, bias = false))
}

// DilConv: the DARTS dilated separable convolution: ReLU, a depthwise
// kernel x kernel conv with dilation 2 (a 3x3 sees a 5x5 window, a 5x5 sees
// 9x9), a pointwise 1x1 conv, BN.  Applied once, unlike SepConv.
block DilConv(x: Tensor[c, h, w], kernel: int) -> Tensor[c, h, w] {
    let y = depthwise(relu(x), kernel = kernel, dilation = 2, bias = false)
    return batchnorm(conv2d(y, c, kernel = 1, bias = false))
}

// ----- the NAS-Bench-201 operations -----

// conv1x1: ReLU, 1x1 conv, BN (NAS-Bench-201 "nor_conv_1x1").
block conv1x1(x: Tensor[c, h, w]) -> Tensor[c, h, w] {
    return ReLUConvBN(x, 1)
}

// conv3x3: ReLU, 3x3 conv, BN (NAS-Bench-201 "nor_conv_3x3").
block conv3x3(x: Tensor[c, h, w]) -> Tensor[c, h, w] {
    return ReLUConvBN(x, 3)
}

// avgpool3x3: 3x3 average pooling, stride 1, padding 1 (NAS-Bench-201
// "avg_pool_3x3"; no conv since the cell keeps the channel count).
block avgpool3x3(x: Tensor[c, h, w]) -> Tensor[c, h, w] {
    return avgpool(x, 3, stride = 1, pad = 1)
}

// ----- the DARTS operations -----

// sep_conv_3x3 and sep_conv_5x5: separable convolutions, applied twice.
block sep_conv_3x3(x: Tensor[c, h, w]) -> Tensor[c, h, w] {
    return SepConv(x, 3)
}

block sep_conv_5x5(x: Tensor[c, h, w]) -> Tensor[c, h, w] {
    return SepConv(x, 5)
}

// dil_conv_3x3 and dil_conv_5x5: dilated separable convolutions.
block dil_conv_3x3(x: Tensor[c, h, w]) -> Tensor[c, h, w] {
    return DilConv(x, 3)
}

block dil_conv_5x5(x: Tensor[c, h, w]) -> Tensor[c, h, w] {
    return DilConv(x, 5)
}

// max_pool_3x3 and avg_pool_3x3: 3x3 pooling, stride 1, padding 1.  (The
// DARTS supernet adds a BN after pooling during its one-shot search only;
// the evaluated networks use the plain pooling, as here.)
block max_pool_3x3(x: Tensor[c, h, w]) -> Tensor[c, h, w] {
    return maxpool(x, 3, stride = 1, pad = 1)
}

block avg_pool_3x3(x: Tensor[c, h, w]) -> Tensor[c, h, w] {
    return avgpool(x, 3, stride = 1, pad = 1)
}
